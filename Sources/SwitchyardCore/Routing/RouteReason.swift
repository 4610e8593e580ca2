/// Why a request went where it went (SPEC §5 `reason`).
public enum RouteReason: Sendable, Hashable, CustomStringConvertible {
    case write
    case read
    case pinned
    case pinCaughtUp
    case noReplica
    case rule(String)

    public var description: String {
        switch self {
        case .write: "write"
        case .read: "read"
        case .pinned: "pinned"
        case .pinCaughtUp: "pin-caught-up"
        case .noReplica: "no-replica"
        case .rule(let name): "rule:\(name)"
        }
    }
}
