import DemoAppKit
import Logging
import SwitchyardApp
import SwitchyardCore
import SwitchyardLogging
import SwitchyardTestSupport
import Testing

/// Read-your-writes end to end: Switchyard (the real composition root) in front
/// of demo app servers that really read the primary or the replica.
@Suite("Read-your-writes on real PostgreSQL", .serialized, .heavyLoad)
struct ReadYourWritesTests {
    static let secret: [UInt8] = Array("shared-by-both-routers".utf8)

    struct Stack {
        var primaryApp: DemoAppServer
        var replicaApp: DemoAppServer
        var routers: [SwitchyardApp]
        var ports: [Int]
        var decisions: [MemoryLogSink]
    }

    static func startStack(_ cluster: PostgresCluster, routers: Int) async throws -> Stack {
        _ = try await cluster.psql(
            on: cluster.primary,
            "CREATE TABLE IF NOT EXISTS items (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());")
        let lsn = try await cluster.currentLSN()
        _ = try await cluster.waitForReplay(cluster.replicas[0], atLeast: lsn)
        let primaryApp = try await DemoAppServer.start(.init(name: "app-p1", database: cluster.primary.superuserConninfo))
        let replicaApp = try await DemoAppServer.start(.init(name: "app-r1", database: cluster.replicas[0].superuserConninfo))
        let configuration = SwitchyardConfiguration(
            listen: ServerAddress(host: "127.0.0.1", port: 0),
            primary: PrimaryConfiguration(
                database: cluster.primary.conninfo, servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: primaryApp.port))]),
            replicas: [
                ReplicaConfiguration(
                    name: "replica-a", database: cluster.replicas[0].conninfo,
                    servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: replicaApp.port))])
            ],
            pin: PinConfiguration(mode: .lsn, ttl: .seconds(30)),
            // Long max_lag: the paused replica stays in rotation, so an unpinned read really is stale.
            lag: LagConfiguration(pollInterval: .milliseconds(200), maxLag: .seconds(120), maxLagBytes: 0, readmitBelow: .seconds(1), queryTimeout: .milliseconds(500))
        )
        var apps: [SwitchyardApp] = []
        var ports: [Int] = []
        var sinks: [MemoryLogSink] = []
        for index in 0..<routers {
            let sink = MemoryLogSink()
            let logger = Logger(label: "switchyard.test.router\(index)") { label in
                StructuredLogHandler(label: label, sink: sink, format: .json, level: .warning)
            }
            let app = SwitchyardApp(
                configurationPath: "/dev/null", configuration: configuration,
                secrets: Secrets(pinKey: Self.secret, pinKeyIsRandom: false, adminToken: nil), decisionSink: sink, logger: logger, threads: 1)
            ports.append(try await app.start())
            apps.append(app)
            sinks.append(sink)
        }
        return Stack(primaryApp: primaryApp, replicaApp: replicaApp, routers: apps, ports: ports, decisions: sinks)
    }

    static func stop(_ stack: Stack) async {
        for router in stack.routers {
            await router.shutdown()
        }
        await stack.primaryApp.stop()
        await stack.replicaApp.stop()
    }

    static func id(_ response: TestResponse) -> String? {
        let body = response.bodyString
        guard let start = body.range(of: "\"id\":") else { return nil }
        return String(body[start.upperBound...].prefix { $0.isNumber })
    }

    @Test func pinnedClientsNeverReadStaleDataAndMoveToTheReplicaOnceItCaughtUp() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let stack = try await Self.startStack(cluster, routers: 2)
            do {
                try await Self.scenario(cluster, stack)
            } catch {
                Issue.record("decisions: \(stack.decisions.map(\.lines))")
                await Self.stop(stack)
                throw error
            }
            await Self.stop(stack)
        }
    }

    static func scenario(_ cluster: PostgresCluster, _ stack: Stack) async throws {
        do {
            let replica = cluster.replicas[0]
            try await cluster.pauseReplay(replica)

            var stale = 0
            var provedStale = 0
            var cookies: [CookieJar] = []
            for attempt in 0..<100 {
                let jar = CookieJar()
                cookies.append(jar)
                // Write through one router, read back through the other: they share the pin secret.
                let writer = TestHTTPClient(port: stack.ports[attempt % 2], cookies: jar, defaultHeaders: [("Host", "t")])
                let reader = TestHTTPClient(port: stack.ports[(attempt + 1) % 2], cookies: jar, defaultHeaders: [("Host", "t")])
                let created = try await writer.post("/items", body: "item \(attempt)")
                #expect(created.status == 201)
                let id = try #require(Self.id(created))
                let read = try await reader.get("/items/\(id)")
                if read.status != 200 { stale += 1 }
                if attempt % 10 == 0 {
                    let unpinned = try await TestHTTPClient(port: stack.ports[0], defaultHeaders: [("Host", "t")]).get("/items/\(id)")
                    if unpinned.status == 404 && unpinned.header("x-db-role") == "replica" { provedStale += 1 }
                }
            }
            #expect(stale == 0, "\(stale) of 100 pinned reads were stale")
            #expect(provedStale == 10, "the replica should be stale for unpinned reads while replay is paused")

            // Resume: the pinned reads move to the replica (pin-caught-up) well before the 30 s ttl.
            try await cluster.resumeReplay(replica)
            let resumed = ContinuousClock.now
            let jar = try #require(cookies.last)
            let client = TestHTTPClient(port: stack.ports[0], cookies: jar, defaultHeaders: [("Host", "t")])
            try await eventually("a pinned read served by the replica", timeout: .seconds(10)) {
                try await client.get("/items").header("x-db-role") == "replica"
            }
            #expect(ContinuousClock.now - resumed < .seconds(30))
            // The line reaches the sink when the loop's turn ends, which can be
            // after the client has the response.
            try await eventually("the pin-caught-up decision logged", timeout: .seconds(5)) {
                stack.decisions[0].lines.contains { $0.contains("\"reason\":\"pin-caught-up\"") }
            }
        }
    }
}
