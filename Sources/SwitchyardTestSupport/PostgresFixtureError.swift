/// Why the PostgreSQL test fixture (``PostgresCluster``) failed. The ``message`` is written for a person reading a
/// test log: it names the command, its exit status, its stderr and, when a server was involved, the end of its log.
public struct PostgresFixtureError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// initdb, pg_ctl, pg_basebackup, postgres or psql is missing. The message says how to install them.
        case serverBinariesMissing
        /// Running as root, but there is no `postgres` OS user to run the servers as (PostgreSQL refuses root).
        case postgresUserMissing
        /// The fixture only runs on Linux.
        case unsupportedPlatform
        /// A bad argument, e.g. a replica count out of range.
        case invalidArgument
        /// No usable TCP port in the configured range, or the server kept failing to bind.
        case noFreePort
        /// A command (initdb, pg_ctl, pg_basebackup, psql...) could not be spawned or exited unsuccessfully.
        case commandFailed
        /// A command or a wait did not finish within its deadline.
        case timeout
        /// The node does not belong to this cluster.
        case unknownNode
        /// The cluster has been shut down.
        case clusterShutDown
        /// Creating or writing the cluster's files failed.
        case fileSystem
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "PostgresFixtureError.\(self.code): \(self.message)"
    }
}
