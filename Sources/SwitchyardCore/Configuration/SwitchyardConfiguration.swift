/// The validated runtime configuration (SPEC §2).
///
/// Built by `SwitchyardConfig` from the YAML file model; every value here has
/// already been checked, so the request path never re-validates. Every
/// initialiser parameter has the SPEC's default, so tests build exactly the
/// configuration they need.
public struct SwitchyardConfiguration: Sendable, Equatable {
    public var listen: ServerAddress
    /// `event_loops`: the threads that serve client connections (fixed at start).
    public var eventLoops: EventLoopCount
    public var drainTimeout: Duration
    public var admin: AdminConfiguration?
    public var log: LogConfiguration
    public var primary: PrimaryConfiguration
    public var replicas: [ReplicaConfiguration]
    public var routing: RoutingConfiguration
    public var pin: PinConfiguration
    public var lag: LagConfiguration
    public var upstream: UpstreamConfiguration
    public var clients: ClientsConfiguration

    public init(
        listen: ServerAddress = ServerAddress(host: "0.0.0.0", port: 8080),
        eventLoops: EventLoopCount = .auto,
        drainTimeout: Duration = .seconds(30),
        admin: AdminConfiguration? = nil,
        log: LogConfiguration = LogConfiguration(),
        primary: PrimaryConfiguration,
        replicas: [ReplicaConfiguration],
        routing: RoutingConfiguration = RoutingConfiguration(),
        pin: PinConfiguration = PinConfiguration(),
        lag: LagConfiguration = LagConfiguration(),
        upstream: UpstreamConfiguration = UpstreamConfiguration(),
        clients: ClientsConfiguration = ClientsConfiguration()
    ) {
        self.listen = listen
        self.eventLoops = eventLoops
        self.drainTimeout = drainTimeout
        self.admin = admin
        self.log = log
        self.primary = primary
        self.replicas = replicas
        self.routing = routing
        self.pin = pin
        self.lag = lag
        self.upstream = upstream
        self.clients = clients
    }
}

/// How many event loops (one thread each) serve client connections and
/// their upstream connections: nginx's `worker_processes`, HAProxy's `nbthread`.
public enum EventLoopCount: Sendable, Equatable, CustomStringConvertible {
    /// One per CPU the process may run on (its affinity mask and cgroup
    /// quota), like `worker_processes auto`. The default.
    case auto
    /// Exactly this many (`EventLoopCount.range`).
    case fixed(Int)

    public static let range: ClosedRange<Int> = 1...1024

    /// As written in the file: `auto` or the count.
    public var description: String {
        switch self {
        case .auto: return "auto"
        case .fixed(let count): return String(count)
        }
    }

    /// The number of loops to start, given the CPUs this process may use.
    public func resolved(usableCPUs: Int) -> Int {
        switch self {
        case .auto: return max(1, usableCPUs)
        case .fixed(let count): return min(max(1, count), EventLoopCount.range.upperBound)
        }
    }
}

public struct AdminConfiguration: Sendable, Equatable {
    public var listen: ServerAddress
    /// Name of the environment variable holding the bearer token, if any.
    public var tokenEnv: String?

    public init(listen: ServerAddress = ServerAddress(host: "127.0.0.1", port: 9090), tokenEnv: String? = "SWITCHYARD_ADMIN_TOKEN") {
        self.listen = listen
        self.tokenEnv = tokenEnv
    }
}

public struct LogConfiguration: Sendable, Equatable {
    public enum Level: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error
    }

    public enum Format: String, Sendable, CaseIterable {
        case json, logfmt
    }

    public var level: Level
    public var format: Format
    public var decisions: Bool
    public var decisionHeader: Bool

    public init(level: Level = .info, format: Format = .json, decisions: Bool = true, decisionHeader: Bool = false) {
        self.level = level
        self.format = format
        self.decisions = decisions
        self.decisionHeader = decisionHeader
    }
}

/// One app server of a pool.
public struct UpstreamServer: Sendable, Hashable {
    public var address: ServerAddress
    public var weight: Int

    public init(address: ServerAddress, weight: Int = 1) {
        self.address = address
        self.weight = weight
    }
}

public struct PrimaryConfiguration: Sendable, Equatable {
    /// libpq conninfo or URI. Never logged.
    public var database: String
    public var servers: [UpstreamServer]

    public init(database: String, servers: [UpstreamServer]) {
        self.database = database
        self.servers = servers
    }
}

public struct ReplicaConfiguration: Sendable, Equatable {
    public var name: String
    /// libpq conninfo or URI. Never logged.
    public var database: String
    public var servers: [UpstreamServer]

    public init(name: String, database: String, servers: [UpstreamServer]) {
        self.name = name
        self.database = database
        self.servers = servers
    }
}

public enum Route: String, Sendable, Hashable, CaseIterable {
    case primary
    case replica
}

public struct RoutingConfiguration: Sendable, Equatable {
    public enum OnNoReplica: String, Sendable, CaseIterable {
        case primary
        case fail
    }

    public enum Balance: String, Sendable, CaseIterable {
        case roundRobin = "round_robin"
        case leastConnections = "least_connections"
    }

    /// Upper-cased method names that are reads.
    public var readMethods: Set<String>
    public var rules: [RoutingRule]
    public var onNoReplica: OnNoReplica
    public var balance: Balance

    public init(
        readMethods: Set<String> = ["GET", "HEAD", "OPTIONS"],
        rules: [RoutingRule] = [],
        onNoReplica: OnNoReplica = .primary,
        balance: Balance = .roundRobin
    ) {
        self.readMethods = readMethods
        self.rules = rules
        self.onNoReplica = onNoReplica
        self.balance = balance
    }
}

public struct PinConfiguration: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        case lsn
        case ttl
    }

    public enum SameSite: String, Sendable, CaseIterable {
        case strict = "Strict"
        case lax = "Lax"
        case none = "None"
    }

    public var cookie: String
    public var mode: Mode
    public var ttl: Duration
    /// Name of the environment variable holding the HMAC key.
    public var secretEnv: String
    public var sameSite: SameSite
    public var secure: Bool
    public var path: String

    public init(
        cookie: String = "switchyard_pin",
        mode: Mode = .lsn,
        ttl: Duration = .seconds(10),
        secretEnv: String = "SWITCHYARD_PIN_SECRET",
        sameSite: SameSite = .lax,
        secure: Bool = false,
        path: String = "/"
    ) {
        self.cookie = cookie
        self.mode = mode
        self.ttl = ttl
        self.secretEnv = secretEnv
        self.sameSite = sameSite
        self.secure = secure
        self.path = path
    }
}

public struct LagConfiguration: Sendable, Equatable {
    public var pollInterval: Duration
    public var maxLag: Duration
    /// 0 = no byte limit.
    public var maxLagBytes: UInt64
    public var readmitBelow: Duration
    public var readmitAfter: Int
    public var queryTimeout: Duration
    public var unreachableAfter: Int

    public init(
        pollInterval: Duration = .milliseconds(500),
        maxLag: Duration = .seconds(5),
        maxLagBytes: UInt64 = 64 * 1024 * 1024,
        readmitBelow: Duration = .seconds(2),
        readmitAfter: Int = 3,
        queryTimeout: Duration = .seconds(1),
        unreachableAfter: Int = 2
    ) {
        self.pollInterval = pollInterval
        self.maxLag = maxLag
        self.maxLagBytes = maxLagBytes
        self.readmitBelow = readmitBelow
        self.readmitAfter = readmitAfter
        self.queryTimeout = queryTimeout
        self.unreachableAfter = unreachableAfter
    }
}

public struct HealthCheckConfiguration: Sendable, Equatable {
    public var path: String
    public var interval: Duration
    public var timeout: Duration

    public init(path: String = "/healthz", interval: Duration = .seconds(2), timeout: Duration = .seconds(1)) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
    }
}

public struct UpstreamConfiguration: Sendable, Equatable {
    public var connectTimeout: Duration
    public var responseTimeout: Duration
    public var idleTimeout: Duration
    public var retries: Int
    public var maxFails: Int
    public var failTimeout: Duration
    public var keepalive: Int
    public var healthCheck: HealthCheckConfiguration?

    public init(
        connectTimeout: Duration = .seconds(2),
        responseTimeout: Duration = .seconds(60),
        idleTimeout: Duration = .seconds(60),
        retries: Int = 2,
        maxFails: Int = 1,
        failTimeout: Duration = .seconds(10),
        keepalive: Int = 64,
        healthCheck: HealthCheckConfiguration? = nil
    ) {
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.idleTimeout = idleTimeout
        self.retries = retries
        self.maxFails = maxFails
        self.failTimeout = failTimeout
        self.keepalive = keepalive
        self.healthCheck = healthCheck
    }
}

public struct ClientsConfiguration: Sendable, Equatable {
    public var trustedProxies: [CIDR]
    public var maxHeaderBytes: Int
    public var maxBodyBytes: Int
    public var headerTimeout: Duration
    public var idleTimeout: Duration
    public var maxConnections: Int

    public init(
        trustedProxies: [CIDR] = [],
        maxHeaderBytes: Int = 32 * 1024,
        maxBodyBytes: Int = 10 * 1024 * 1024,
        headerTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(60),
        maxConnections: Int = 10_000
    ) {
        self.trustedProxies = trustedProxies
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}
