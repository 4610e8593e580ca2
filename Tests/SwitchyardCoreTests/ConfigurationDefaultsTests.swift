import SwitchyardCore
import Testing

/// The runtime configuration's initialiser defaults are SPEC §2's defaults.
@Suite("Runtime configuration defaults match SPEC §2")
struct ConfigurationDefaultsTests {
    @Test("routing")
    func routing() {
        let routing = RoutingConfiguration()
        #expect(routing.readMethods == ["GET", "HEAD", "OPTIONS"])
        #expect(routing.rules.isEmpty)
        #expect(routing.onNoReplica == .primary)
        #expect(routing.balance == .roundRobin)
        #expect(RoutingConfiguration.OnNoReplica(rawValue: "fail") == .fail)
    }

    @Test("pin")
    func pin() {
        let pin = PinConfiguration()
        #expect(pin.cookie == "switchyard_pin")
        #expect(pin.mode == .lsn)
        #expect(pin.ttl == .seconds(10))
        #expect(pin.secretEnv == "SWITCHYARD_PIN_SECRET")
        #expect(pin.sameSite == .lax)
        #expect(pin.sameSite.rawValue == "Lax")
        #expect(PinConfiguration.SameSite.strict.rawValue == "Strict")
        #expect(PinConfiguration.SameSite.none.rawValue == "None")
        #expect(!pin.secure)
        #expect(pin.path == "/")
        #expect(PinConfiguration.Mode(rawValue: "ttl") == .ttl)
    }

    @Test("lag")
    func lag() {
        let lag = LagConfiguration()
        #expect(lag.pollInterval == .milliseconds(500))
        #expect(lag.maxLag == .seconds(5))
        #expect(lag.maxLagBytes == 64 * 1024 * 1024)
        #expect(lag.readmitBelow == .seconds(2))
        #expect(lag.readmitAfter == 3)
        #expect(lag.queryTimeout == .seconds(1))
        #expect(lag.unreachableAfter == 2)
    }

    @Test("upstream")
    func upstream() {
        let upstream = UpstreamConfiguration()
        #expect(upstream.connectTimeout == .seconds(2))
        #expect(upstream.responseTimeout == .seconds(60))
        #expect(upstream.idleTimeout == .seconds(60))
        #expect(upstream.retries == 2)
        #expect(upstream.maxFails == 1)
        #expect(upstream.failTimeout == .seconds(10))
        #expect(upstream.keepalive == 64)
        #expect(upstream.healthCheck == nil)
        let check = HealthCheckConfiguration()
        #expect(check.path == "/healthz")
        #expect(check.interval == .seconds(2))
        #expect(check.timeout == .seconds(1))
    }

    @Test("clients")
    func clients() {
        let clients = ClientsConfiguration()
        #expect(clients.trustedProxies.isEmpty)
        #expect(clients.maxHeaderBytes == 32 * 1024)
        #expect(clients.maxBodyBytes == 10 * 1024 * 1024)
        #expect(clients.headerTimeout == .seconds(10))
        #expect(clients.idleTimeout == .seconds(60))
        #expect(clients.maxConnections == 10_000)
    }

    @Test("top level, log and admin")
    func topLevel() {
        let configuration = SwitchyardConfiguration(
            primary: PrimaryConfiguration(database: "host=127.0.0.1", servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 8001))]),
            replicas: []
        )
        #expect(configuration.listen == ServerAddress(host: "0.0.0.0", port: 8080))
        #expect(configuration.drainTimeout == .seconds(30))
        #expect(configuration.admin == nil)
        #expect(configuration.primary.servers.first?.weight == 1)
        let log = LogConfiguration()
        #expect(log.level == .info)
        #expect(log.format == .json)
        #expect(log.decisions)
        #expect(!log.decisionHeader)
        let admin = AdminConfiguration()
        #expect(admin.listen == ServerAddress(host: "127.0.0.1", port: 9090))
        #expect(admin.tokenEnv == "SWITCHYARD_ADMIN_TOKEN")
        #expect(LogConfiguration.Level.allCases.map(\.rawValue) == ["trace", "debug", "info", "notice", "warning", "error"])
        #expect(LogConfiguration.Format.allCases.map(\.rawValue) == ["json", "logfmt"])
    }
}
