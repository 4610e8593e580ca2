import SwitchyardCore

/// The `GET /status` document, exactly the keys of SPEC §7:
///
/// ```json
/// {"version":"1.0.0","uptime_s":812.4,
///  "primary":{"reachable":true,"in_recovery":false,"current_lsn":"0/3000148",
///             "servers":[{"address":"127.0.0.1:8001","up":true,"active":3,"failures":0}]},
///  "replicas":[{"name":"replica-a","in_rotation":false,"cause":"lag","lag_s":6.2,"lag_bytes":1048576,
///               "replay_lsn":"0/2F00000","servers":[...]}],
///  "totals":{"requests":18211,"by_route":{"primary":2011,"replica":16200},
///            "by_reason":{"read":15990,"write":1900,"pinned":101,"pin-caught-up":210,"no-replica":10}}}
/// ```
///
/// Optional values are written as an explicit JSON `null`, never omitted
/// (`cause` is null for a replica in rotation).
public struct StatusDocument: Sendable, Hashable, Encodable {
    public var version: String
    public var uptimeSeconds: Double
    public var primary: Primary
    public var replicas: [Replica]
    public var totals: Totals

    public init(version: String, uptimeSeconds: Double, primary: Primary, replicas: [Replica], totals: Totals) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.primary = primary
        self.replicas = replicas
        self.totals = totals
    }

    /// One app server of a pool.
    public struct Server: Sendable, Hashable, Encodable {
        /// `host:port` as configured.
        public var address: String
        public var up: Bool
        /// Requests in flight on it.
        public var active: Int
        /// Consecutive failures (passive health).
        public var failures: Int

        public init(address: String, up: Bool, active: Int, failures: Int) {
            self.address = address
            self.up = up
            self.active = active
            self.failures = failures
        }
    }

    public struct Primary: Sendable, Hashable, Encodable {
        public var reachable: Bool
        /// Nil when the last poll could not tell.
        public var inRecovery: Bool?
        /// The primary's WAL position at the last poll (`X/Y`), nil when unknown.
        public var currentLSN: String?
        public var servers: [Server]

        public init(reachable: Bool, inRecovery: Bool?, currentLSN: String?, servers: [Server]) {
            self.reachable = reachable
            self.inRecovery = inRecovery
            self.currentLSN = currentLSN
            self.servers = servers
        }

        /// Convenience for callers holding an ``LSN``.
        public init(reachable: Bool, inRecovery: Bool?, currentLSN: LSN?, servers: [Server]) {
            self.init(reachable: reachable, inRecovery: inRecovery, currentLSN: currentLSN?.description, servers: servers)
        }
    }

    public struct Replica: Sendable, Hashable, Encodable {
        public var name: String
        public var inRotation: Bool
        /// Why it is out (`lag`, `lag-bytes`, `unreachable`, `promoted`, `receiver-down`, `drained`); nil in rotation.
        public var cause: String?
        public var lagSeconds: Double?
        public var lagBytes: UInt64?
        /// The replica's replay position (`X/Y`), nil when unknown.
        public var replayLSN: String?
        public var servers: [Server]

        public init(
            name: String, inRotation: Bool, cause: String?, lagSeconds: Double?, lagBytes: UInt64?, replayLSN: String?,
            servers: [Server]
        ) {
            self.name = name
            self.inRotation = inRotation
            self.cause = cause
            self.lagSeconds = lagSeconds
            self.lagBytes = lagBytes
            self.replayLSN = replayLSN
            self.servers = servers
        }

        /// Convenience for callers holding SwitchyardCore values. A replica in rotation never has a cause.
        public init(
            name: String, inRotation: Bool, cause: RotationCause?, lagSeconds: Double?, lagBytes: UInt64?, replayLSN: LSN?,
            servers: [Server]
        ) {
            self.init(
                name: name, inRotation: inRotation, cause: inRotation ? nil : cause?.rawValue, lagSeconds: lagSeconds,
                lagBytes: lagBytes, replayLSN: replayLSN?.description, servers: servers)
        }
    }

    /// Request counts since start (``SwitchyardMetrics/requestTotals()`` builds them).
    public struct Totals: Sendable, Hashable, Encodable {
        public var requests: Int
        /// Keyed by route: `primary`, `replica` (both always written, 0 when absent).
        public var byRoute: [String: Int]
        /// Keyed by reason: `read`, `write`, `pinned`, `pin-caught-up`, `no-replica` (always written),
        /// and any `rule:NAME` seen.
        public var byReason: [String: Int]

        public init(requests: Int, byRoute: [String: Int], byReason: [String: Int]) {
            self.requests = requests
            self.byRoute = byRoute
            self.byReason = byReason
        }

        /// Empty totals: every fixed route and reason at 0.
        public static let zero = Totals(requests: 0, byRoute: [:], byReason: [:])
    }
}
