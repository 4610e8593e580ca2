import SwitchyardConfig
import SwitchyardCore
import Testing

@Suite("Defaults and accepted spellings")
struct DefaultsTests {
    @Test func minimalFileGetsEveryDefault() throws {
        let config = try #require(Fixtures.parse(Fixtures.minimal))
        let expected = SwitchyardConfiguration(
            listen: ServerAddress(host: "127.0.0.1", port: 8080),
            primary: PrimaryConfiguration(
                database: "host=db1 dbname=app",
                servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 8001))]
            ),
            replicas: [
                ReplicaConfiguration(
                    name: "replica-a",
                    database: "host=db2 dbname=app",
                    servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 8011))]
                )
            ]
        )
        #expect(config == expected)
        // Spelled out, so that a changed default in SwitchyardCore is noticed here too.
        #expect(config.eventLoops == .auto)
        #expect(config.drainTimeout == .seconds(30))
        #expect(config.admin == nil)
        #expect(config.log == LogConfiguration(level: .info, format: .json, decisions: true, decisionHeader: false))
        #expect(config.routing.readMethods == ["GET", "HEAD", "OPTIONS"])
        #expect(config.routing.rules.isEmpty)
        #expect(config.routing.onNoReplica == .primary)
        #expect(config.routing.balance == .roundRobin)
        #expect(config.pin == PinConfiguration(cookie: "switchyard_pin", mode: .lsn, ttl: .seconds(10), secretEnv: "SWITCHYARD_PIN_SECRET", sameSite: .lax, secure: false, path: "/"))
        #expect(config.lag.pollInterval == .milliseconds(500))
        #expect(config.lag.maxLagBytes == 67_108_864)
        #expect(config.upstream.healthCheck == nil)
        #expect(config.upstream.retries == 2)
        #expect(config.clients.maxHeaderBytes == 32_768)
        #expect(config.clients.maxBodyBytes == 10_485_760)
        #expect(config.clients.maxConnections == 10_000)
        #expect(ConfigLoader.summary(of: config) == "config ok: 1 primary servers, 1 replicas, 0 rules")
    }

    @Test func eventLoopsAutoOrACount() throws {
        #expect(try #require(Fixtures.parse(Fixtures.minimal + "event_loops: auto\n")).eventLoops == .auto)
        #expect(try #require(Fixtures.parse(Fixtures.minimal + "event_loops: 1\n")).eventLoops == .fixed(1))
        #expect(try #require(Fixtures.parse(Fixtures.minimal + "event_loops: 1024\n")).eventLoops == .fixed(1024))
        // auto follows the CPUs the process may use; a count is taken as written.
        #expect(EventLoopCount.auto.resolved(usableCPUs: 6) == 6)
        #expect(EventLoopCount.auto.resolved(usableCPUs: 0) == 1)
        #expect(EventLoopCount.fixed(3).resolved(usableCPUs: 1) == 3)
    }

    @Test func emptyAdminSectionEnablesTheListenerWithDefaults() throws {
        let config = try #require(Fixtures.parse(Fixtures.minimal + "admin:\n"))
        #expect(config.admin == AdminConfiguration(listen: ServerAddress(host: "127.0.0.1", port: 9090), tokenEnv: "SWITCHYARD_ADMIN_TOKEN"))
    }

    @Test func adminTokenEnvNullMeansNoToken() throws {
        let config = try #require(Fixtures.parse(Fixtures.minimal + "admin:\n  listen: '[::1]:9191'\n  token_env: null\n"))
        #expect(config.admin == AdminConfiguration(listen: ServerAddress(host: "::1", port: 9191), tokenEnv: nil))
    }

    @Test func emptyHealthCheckSectionEnablesTheCheckWithDefaults() throws {
        let config = try #require(Fixtures.parse(Fixtures.minimal + "upstream:\n  health_check: {}\n"))
        #expect(config.upstream.healthCheck == HealthCheckConfiguration(path: "/healthz", interval: .seconds(2), timeout: .seconds(1)))
    }

    @Test func everyKeyChangedFromItsDefault() throws {
        let yaml = """
            listen: "[::]:80"
            event_loops: 3
            drain_timeout: 0
            admin: { listen: 0.0.0.0:9000, token_env: MY_TOKEN }
            log: { level: debug, format: logfmt, decisions: false, decision_header: yes }
            primary:
              database: postgresql://u@db/app
              servers:
                - { address: app1.internal:8000, weight: 1000 }
            replicas:
              - name: r_1
                database: host=r1
                servers: ["[fd00::1]:8000"]
              - name: r-2
                database: host=r2
                servers: [{ address: 10.0.0.2:8000 }]
            routing:
              read_methods: [get, head, PROPFIND]
              rules:
                - name: tenant.beta
                  match: { path_regex: '^/api/v[0-9]+/', methods: [get, post], header: { X-Tenant: beta } }
                  route: replica
              on_no_replica: fail
              balance: least_connections
            pin:
              cookie: sy
              mode: ttl
              ttl: 1m30s
              secret_env: PIN_KEY
              same_site: none
              secure: true
              path: /app
            lag:
              poll_interval: 250ms
              max_lag: 1.5s
              max_lag_bytes: 0
              readmit_below: 1500ms
              readmit_after: 1
              query_timeout: 2s
              unreachable_after: 5
            upstream:
              connect_timeout: 100ms
              response_timeout: 1h
              idle_timeout: 5m
              retries: 0
              max_fails: 3
              fail_timeout: 30s
              keepalive: 0
              health_check: { path: /up, interval: 5s, timeout: 500ms }
            clients:
              trusted_proxies: [10.0.0.0/8, "::1", 192.168.1.7]
              max_header_bytes: 1MiB
              max_body_bytes: 1GiB
              header_timeout: 3s
              idle_timeout: 15s
              max_connections: 1

            """
        let config = try #require(Fixtures.parse(yaml))
        #expect(config.listen == ServerAddress(host: "::", port: 80))
        #expect(config.eventLoops == .fixed(3))
        #expect(config.drainTimeout == .zero)
        #expect(config.admin == AdminConfiguration(listen: ServerAddress(host: "0.0.0.0", port: 9000), tokenEnv: "MY_TOKEN"))
        #expect(config.log == LogConfiguration(level: .debug, format: .logfmt, decisions: false, decisionHeader: true))
        #expect(config.primary.database == "postgresql://u@db/app")
        #expect(config.primary.servers == [UpstreamServer(address: ServerAddress(host: "app1.internal", port: 8000), weight: 1000)])
        #expect(config.replicas.map(\.name) == ["r_1", "r-2"])
        #expect(config.replicas.first?.servers == [UpstreamServer(address: ServerAddress(host: "fd00::1", port: 8000))])
        #expect(config.replicas.last?.servers == [UpstreamServer(address: ServerAddress(host: "10.0.0.2", port: 8000))])
        #expect(config.routing.readMethods == ["GET", "HEAD", "PROPFIND"])
        let rule = try #require(config.routing.rules.first)
        #expect(rule.name == "tenant.beta")
        #expect(rule.route == .replica)
        #expect(rule.match.pathPrefix == nil)
        #expect(rule.match.pathRegex?.pattern == "^/api/v[0-9]+/")
        #expect(rule.match.pathRegex?.matches("/api/v2/items") == true)
        #expect(rule.match.methods == ["GET", "POST"])
        #expect(rule.match.headers == [HeaderCondition(name: "x-tenant", value: "beta")])
        #expect(config.routing.onNoReplica == .fail)
        #expect(config.routing.balance == .leastConnections)
        #expect(config.pin == PinConfiguration(cookie: "sy", mode: .ttl, ttl: .seconds(90), secretEnv: "PIN_KEY", sameSite: .none, secure: true, path: "/app"))
        #expect(
            config.lag == LagConfiguration(
                pollInterval: .milliseconds(250),
                maxLag: .milliseconds(1500),
                maxLagBytes: 0,
                readmitBelow: .milliseconds(1500),
                readmitAfter: 1,
                queryTimeout: .seconds(2),
                unreachableAfter: 5
            )
        )
        #expect(
            config.upstream == UpstreamConfiguration(
                connectTimeout: .milliseconds(100),
                responseTimeout: .seconds(3600),
                idleTimeout: .seconds(300),
                retries: 0,
                maxFails: 3,
                failTimeout: .seconds(30),
                keepalive: 0,
                healthCheck: HealthCheckConfiguration(path: "/up", interval: .seconds(5), timeout: .milliseconds(500))
            )
        )
        #expect(config.clients.trustedProxies.map(\.text) == ["10.0.0.0/8", "::1", "192.168.1.7"])
        #expect(config.clients.maxHeaderBytes == 1_048_576)
        #expect(config.clients.maxBodyBytes == 1_073_741_824)
        #expect(config.clients.headerTimeout == .seconds(3))
        #expect(config.clients.idleTimeout == .seconds(15))
        #expect(config.clients.maxConnections == 1)
        #expect(ConfigLoader.summary(of: config) == "config ok: 1 primary servers, 2 replicas, 1 rules")
    }

    @Test func listenMayAskForAnEphemeralPort() throws {
        let yaml = Fixtures.minimal.replacing("listen: 127.0.0.1:8080", with: "listen: 127.0.0.1:0")
        let config = try #require(Fixtures.parse(yaml))
        #expect(config.listen.port == 0)
    }

    @Test func mergeKeysAndAliasesAreFollowed() throws {
        let yaml = """
            listen: 127.0.0.1:8080
            x-pool: &pool
              servers: [127.0.0.1:8001, 127.0.0.1:8002]
            primary:
              <<: *pool
              database: host=db1
            replicas:
              - <<: *pool
                name: a
                database: host=db2
                servers: [127.0.0.1:9001]

            """
        // `x-pool` is not a key of the file: the anchor must live inside a known key.
        #expect(Fixtures.problems(yaml) == ["test.yaml:2:1: unknown key 'x-pool' in top level"])

        let valid = """
            listen: 127.0.0.1:8080
            primary: &primary
              database: host=db1
              servers: [127.0.0.1:8001, 127.0.0.1:8002]
            replicas:
              - <<: *primary
                name: a
                database: host=db2
              - <<: *primary
                name: b
                servers: [127.0.0.1:9001]

            """
        let config = try #require(Fixtures.parse(valid))
        #expect(config.replicas.map(\.database) == ["host=db2", "host=db1"])
        #expect(config.replicas[0].servers.map(\.address.port) == [8001, 8002])
        #expect(config.replicas[1].servers.map(\.address.port) == [9001])
    }

    @Test func sameSiteIgnoresCase() throws {
        let config = try #require(Fixtures.parse(Fixtures.minimal + "pin: { same_site: strict }\n"))
        #expect(config.pin.sameSite == .strict)
    }
}
