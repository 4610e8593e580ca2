/// What the router knows of one replica at decision time: whether it may take
/// reads (in rotation, not drained, and at least one app server up) and how
/// far it has replayed (for `pin-caught-up`).
public struct ReplicaAvailability: Sendable, Hashable {
    public var usable: Bool
    public var replayLSN: LSN?

    public init(usable: Bool, replayLSN: LSN? = nil) {
        self.usable = usable
        self.replayLSN = replayLSN
    }
}
