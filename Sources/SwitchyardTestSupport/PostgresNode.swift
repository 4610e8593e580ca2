/// One PostgreSQL server of a ``PostgresCluster``: the primary or a streaming replica on 127.0.0.1.
public struct PostgresNode: Sendable, Hashable, CustomStringConvertible {
    /// The role a node was created with. A promoted replica keeps `.replica` here; ask the server
    /// (`SELECT pg_is_in_recovery()`) for its current role.
    public enum Role: String, Sendable, Hashable {
        case primary
        case replica
    }

    /// `primary`, `replica1`, `replica2`. Also the node's `cluster_name`, its replication slot and the
    /// `application_name` its walreceiver shows in the primary's `pg_stat_replication`.
    public let name: String
    public let role: Role
    /// Always `127.0.0.1` (a numeric host: libpq's non-blocking connect resolves names synchronously).
    public let host: String
    /// The TCP port, in the cluster's port range (20000–32000 by default), fixed for the node's life.
    public let port: Int
    /// Absolute path of the data directory (owned by the `postgres` OS user when running as root).
    public let dataDirectory: String
    /// The unix socket directory (`host=` this path also works for libpq: it starts with `/`).
    public let socketDirectory: String
    /// The server log (`pg_ctl -l`).
    public let logFile: String

    public init(
        name: String,
        role: Role,
        host: String = "127.0.0.1",
        port: Int,
        dataDirectory: String,
        socketDirectory: String,
        logFile: String
    ) {
        self.name = name
        self.role = role
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.socketDirectory = socketDirectory
        self.logFile = logFile
    }

    /// libpq keyword form for the monitoring role:
    /// `host=127.0.0.1 port=P user=switchyard_monitor dbname=app`.
    public var conninfo: String {
        self.conninfo(user: PostgresCluster.monitorRole)
    }

    /// libpq keyword form for the superuser: `host=127.0.0.1 port=P user=postgres dbname=app`.
    public var superuserConninfo: String {
        self.conninfo(user: PostgresCluster.superuser)
    }

    /// libpq keyword form for any role and database of the cluster (authentication is `trust`).
    public func conninfo(user: String, database: String = PostgresCluster.database) -> String {
        "host=\(self.host) port=\(self.port) user=\(user) dbname=\(database)"
    }

    public var description: String {
        "\(self.name)@\(self.host):\(self.port)"
    }
}
