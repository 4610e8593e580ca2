/// Why a replica is out of rotation (SPEC §5 `cause`).
public enum RotationCause: String, Sendable, Hashable, CaseIterable {
    case lag
    case lagBytes = "lag-bytes"
    case unreachable
    case promoted
    case receiverDown = "receiver-down"
    case drained
}
