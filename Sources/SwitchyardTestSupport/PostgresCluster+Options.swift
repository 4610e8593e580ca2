import Logging

extension PostgresCluster {
    /// How ``PostgresCluster/start(replicas:options:)`` builds a cluster. Every field has a default.
    public struct Options: Sendable {
        /// Random ports are drawn from here. Keep it out of Linux's ephemeral range (32768–60999).
        public var portRange: ClosedRange<Int>
        /// How many ports a server may try when its `bind()` fails (another process took the port between
        /// the probe and the postmaster's bind).
        public var bindAttempts: Int
        /// The directory the cluster's temporary directory is created in. Keep it short: unix socket paths
        /// are limited to 107 bytes.
        public var baseDirectory: String
        /// The server binaries (initdb, pg_ctl, ...). Nil: `SWITCHYARD_PG_BINDIR`, else discovered.
        public var binDirectory: String?
        /// Deadline for each server command (initdb, pg_ctl start/stop, pg_basebackup).
        public var commandTimeout: Duration
        /// Default deadline for one ``PostgresCluster/psql(on:_:user:database:timeout:)`` call.
        public var queryTimeout: Duration
        /// Deadline for a new replica to stream and replay the primary's position during start.
        public var replicationTimeout: Duration
        /// Extra `postgresql.conf` lines for every node (e.g. `"autovacuum = off"`), appended after the
        /// fixture's settings so they win.
        public var extraConfiguration: [String]
        public var logger: Logger

        /// Ports tried in this order, without probing (tests of the bind-retry path only).
        var portCandidatesForTesting: [Int]?

        public init(
            portRange: ClosedRange<Int> = 20000...32000,
            bindAttempts: Int = 5,
            baseDirectory: String = "/tmp",
            binDirectory: String? = nil,
            commandTimeout: Duration = .seconds(120),
            queryTimeout: Duration = .seconds(60),
            replicationTimeout: Duration = .seconds(60),
            extraConfiguration: [String] = [],
            logger: Logger = Logger(label: "switchyard.test-support.postgres")
        ) {
            self.portRange = portRange
            self.bindAttempts = bindAttempts
            self.baseDirectory = baseDirectory
            self.binDirectory = binDirectory
            self.commandTimeout = commandTimeout
            self.queryTimeout = queryTimeout
            self.replicationTimeout = replicationTimeout
            self.extraConfiguration = extraConfiguration
            self.logger = logger
            self.portCandidatesForTesting = nil
        }
    }
}
