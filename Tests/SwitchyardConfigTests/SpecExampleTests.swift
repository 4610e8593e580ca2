import SwitchyardConfig
import SwitchyardCore
import Testing

@Suite("The SPEC §2 example")
struct SpecExampleTests {
    @Test func parsesWithoutProblems() {
        #expect(Fixtures.problems(Fixtures.specExample) == [])
    }

    @Test func topLevelAndAdmin() throws {
        let config = try #require(Fixtures.parse(Fixtures.specExample))
        #expect(config.listen == ServerAddress(host: "0.0.0.0", port: 8080))
        #expect(config.drainTimeout == .seconds(30))
        let admin = try #require(config.admin)
        #expect(admin.listen == ServerAddress(host: "127.0.0.1", port: 9090))
        #expect(admin.tokenEnv == "SWITCHYARD_ADMIN_TOKEN")
    }

    @Test func log() throws {
        let config = try #require(Fixtures.parse(Fixtures.specExample))
        #expect(config.log == LogConfiguration(level: .info, format: .json, decisions: true, decisionHeader: false))
    }

    @Test func pools() throws {
        let config = try #require(Fixtures.parse(Fixtures.specExample))
        #expect(config.primary.database == "host=127.0.0.1 port=5432 dbname=app user=switchyard_monitor")
        #expect(
            config.primary.servers == [
                UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 8001), weight: 1),
                UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 8002), weight: 2),
            ]
        )
        #expect(config.replicas.count == 1)
        let replica = try #require(config.replicas.first)
        #expect(replica.name == "replica-a")
        #expect(replica.database == "postgresql://switchyard_monitor@127.0.0.1:5433/app")
        #expect(
            replica.servers == [
                UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 8011)),
                UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 8012)),
            ]
        )
    }

    @Test func routing() throws {
        let config = try #require(Fixtures.parse(Fixtures.specExample))
        #expect(config.routing.readMethods == ["GET", "HEAD", "OPTIONS"])
        #expect(config.routing.onNoReplica == .primary)
        #expect(config.routing.balance == .roundRobin)
        #expect(
            config.routing.rules == [
                RoutingRule(name: "admin-on-primary", match: RuleMatch(pathPrefix: "/admin"), route: .primary),
                RoutingRule(name: "search-is-a-read", match: RuleMatch(pathPrefix: "/search", methods: ["POST"]), route: .replica),
            ]
        )
    }

    @Test func pin() throws {
        let config = try #require(Fixtures.parse(Fixtures.specExample))
        #expect(config.pin.cookie == "switchyard_pin")
        #expect(config.pin.mode == .lsn)
        #expect(config.pin.ttl == .seconds(10))
        #expect(config.pin.secretEnv == "SWITCHYARD_PIN_SECRET")
        #expect(config.pin.sameSite == .lax)
        #expect(config.pin.secure == false)
        #expect(config.pin.path == "/")
    }

    @Test func lag() throws {
        let config = try #require(Fixtures.parse(Fixtures.specExample))
        #expect(config.lag.pollInterval == .milliseconds(500))
        #expect(config.lag.maxLag == .seconds(5))
        #expect(config.lag.maxLagBytes == 64 * 1024 * 1024)
        #expect(config.lag.readmitBelow == .seconds(2))
        #expect(config.lag.readmitAfter == 3)
        #expect(config.lag.queryTimeout == .seconds(1))
        #expect(config.lag.unreachableAfter == 2)
    }

    @Test func upstream() throws {
        let config = try #require(Fixtures.parse(Fixtures.specExample))
        #expect(config.upstream.connectTimeout == .seconds(2))
        #expect(config.upstream.responseTimeout == .seconds(60))
        #expect(config.upstream.idleTimeout == .seconds(60))
        #expect(config.upstream.retries == 2)
        #expect(config.upstream.maxFails == 1)
        #expect(config.upstream.failTimeout == .seconds(10))
        #expect(config.upstream.keepalive == 64)
        #expect(config.upstream.healthCheck == HealthCheckConfiguration(path: "/healthz", interval: .seconds(2), timeout: .seconds(1)))
    }

    @Test func clients() throws {
        let config = try #require(Fixtures.parse(Fixtures.specExample))
        #expect(config.clients.trustedProxies == [])
        #expect(config.clients.maxHeaderBytes == 32 * 1024)
        #expect(config.clients.maxBodyBytes == 10 * 1024 * 1024)
        #expect(config.clients.headerTimeout == .seconds(10))
        #expect(config.clients.idleTimeout == .seconds(60))
        #expect(config.clients.maxConnections == 10_000)
    }

    @Test func summaryLine() throws {
        let config = try #require(Fixtures.parse(Fixtures.specExample))
        #expect(ConfigLoader.summary(of: config) == "config ok: 2 primary servers, 1 replicas, 2 rules")
    }
}
