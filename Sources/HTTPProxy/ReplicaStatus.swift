import Atomics
import SwitchyardCore

/// What the lag monitor (or an operator) says of each replica, published as
/// one immutable value swapped atomically; the request path reads it through
/// its event loop's `PublishedStateCache` (its entries already in replica order).
public final class ReplicaStatusBoard: AtomicReference, Sendable {
    public struct Entry: Sendable, Hashable {
        public var inRotation: Bool
        /// Why it is out (`lag`, `unreachable`, `drained`, ...); nil in rotation.
        public var cause: String?
        public var lagSeconds: Double?
        public var lagBytes: UInt64?
        public var replayLSN: LSN?

        public init(inRotation: Bool, cause: String? = nil, lagSeconds: Double? = nil, lagBytes: UInt64? = nil, replayLSN: LSN? = nil) {
            self.inRotation = inRotation
            self.cause = cause
            self.lagSeconds = lagSeconds
            self.lagBytes = lagBytes
            self.replayLSN = replayLSN
        }
    }

    /// Keyed by replica name, so the board survives a reload that reorders replicas.
    public let entries: [String: Entry]

    public init(entries: [String: Entry]) {
        self.entries = entries
    }

    /// Every named replica in rotation (the state before any poll, and without a monitor).
    public static func allInRotation(_ names: [String]) -> ReplicaStatusBoard {
        ReplicaStatusBoard(entries: Dictionary(names.map { ($0, Entry(inRotation: true)) }, uniquingKeysWith: { a, _ in a }))
    }

    public func entry(_ name: String) -> Entry {
        self.entries[name] ?? Entry(inRotation: true)
    }
}
