import SwitchyardCore

/// What the last poll round said of one database (for `switchyard lag`, `/status`, the dashboard).
public struct DatabaseStatus: Sendable, Hashable {
    public enum Role: String, Sendable {
        case primary
        case replica
    }

    public var name: String
    public var role: Role
    public var reachable: Bool
    public var inRecovery: Bool?
    /// The primary's position this round.
    public var currentLSN: LSN?
    public var receiveLSN: LSN?
    public var replayLSN: LSN?
    public var replayPaused: Bool?
    public var receiverStatus: String?
    public var lagBytes: UInt64?
    public var lagSeconds: Double?
    public var inRotation: Bool
    public var cause: RotationCause?
    /// The poll's error, if it failed (never contains the conninfo).
    public var error: String?
    /// How long this database's poll took, in seconds.
    public var pollSeconds: Double

    public init(
        name: String, role: Role, reachable: Bool, inRecovery: Bool? = nil, currentLSN: LSN? = nil, receiveLSN: LSN? = nil,
        replayLSN: LSN? = nil, replayPaused: Bool? = nil, receiverStatus: String? = nil, lagBytes: UInt64? = nil,
        lagSeconds: Double? = nil, inRotation: Bool, cause: RotationCause? = nil, error: String? = nil, pollSeconds: Double = 0
    ) {
        self.name = name
        self.role = role
        self.reachable = reachable
        self.inRecovery = inRecovery
        self.currentLSN = currentLSN
        self.receiveLSN = receiveLSN
        self.replayLSN = replayLSN
        self.replayPaused = replayPaused
        self.receiverStatus = receiverStatus
        self.lagBytes = lagBytes
        self.lagSeconds = lagSeconds
        self.inRotation = inRotation
        self.cause = cause
        self.error = error
        self.pollSeconds = pollSeconds
    }

    /// `in rotation` / `out: CAUSE` (SPEC §1 `lag`); the primary is `primary` or what is wrong with it.
    public var verdict: String {
        switch self.role {
        case .primary:
            if !self.reachable { return "out: unreachable" }
            if self.inRecovery == true { return "out: in recovery" }
            return "in rotation"
        case .replica:
            return self.inRotation ? "in rotation" : "out: \(self.cause?.rawValue ?? "unknown")"
        }
    }
}

/// One poll round: the primary and every replica, in configuration order.
public struct LagReport: Sendable, Hashable {
    public var primary: DatabaseStatus
    public var replicas: [DatabaseStatus]
    public var roundSeconds: Double

    public init(primary: DatabaseStatus, replicas: [DatabaseStatus], roundSeconds: Double) {
        self.primary = primary
        self.replicas = replicas
        self.roundSeconds = roundSeconds
    }

    public var all: [DatabaseStatus] { [self.primary] + self.replicas }
}
