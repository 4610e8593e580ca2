/// What one poll round learned about one replica (SPEC §6).
public struct ReplicaObservation: Sendable, Hashable {
    /// False when the poll failed (connect error, query error, deadline).
    public var reachable: Bool
    public var inRecovery: Bool
    public var receiveLSN: LSN?
    public var replayLSN: LSN?
    public var replayPaused: Bool?
    /// `pg_stat_wal_receiver.status`, nil when there is no receiver.
    public var receiverStatus: String?
    /// Time lag in seconds (router clock, or the fallback); nil when unknown.
    public var lagSeconds: Double?
    /// Bytes behind the primary's position of this round; nil when unknown.
    public var lagBytes: UInt64?

    public init(
        reachable: Bool, inRecovery: Bool = true, receiveLSN: LSN? = nil, replayLSN: LSN? = nil, replayPaused: Bool? = nil,
        receiverStatus: String? = "streaming", lagSeconds: Double? = 0, lagBytes: UInt64? = 0
    ) {
        self.reachable = reachable
        self.inRecovery = inRecovery
        self.receiveLSN = receiveLSN
        self.replayLSN = replayLSN
        self.replayPaused = replayPaused
        self.receiverStatus = receiverStatus
        self.lagSeconds = lagSeconds
        self.lagBytes = lagBytes
    }

    public static let unreachable = ReplicaObservation(reachable: false, receiverStatus: nil, lagSeconds: nil, lagBytes: nil)
}
