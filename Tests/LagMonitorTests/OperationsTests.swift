import DemoAppKit
import Logging
import Synchronization
import SwitchyardApp
import SwitchyardConfig
import SwitchyardCore
import SwitchyardLogging
import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Operations on a real stack (SPEC §2 reload, §7 admin): a reload that
/// tightens max_lag mid-traffic, an invalid reload, drain/undrain, and the
/// metrics that follow a replica out of rotation and back.
@Suite("Operations on real PostgreSQL", .serialized, .heavyLoad)
struct OperationsTests {
    static func yaml(cluster: PostgresCluster, primaryApp: Int, replicaApp: Int, maxLag: String) -> String {
        """
        listen: 127.0.0.1:0
        admin: { listen: "127.0.0.1:0", token_env: SY_TEST_ADMIN_TOKEN }
        primary:
          database: "\(cluster.primary.conninfo)"
          servers: [127.0.0.1:\(primaryApp)]
        replicas:
          - name: replica-a
            database: "\(cluster.replicas[0].conninfo)"
            servers: [127.0.0.1:\(replicaApp)]
        pin: { mode: ttl }
        lag: { poll_interval: 200ms, max_lag: \(maxLag), max_lag_bytes: 0, readmit_below: 1s, readmit_after: 2, query_timeout: 500ms }
        """
    }

    static func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw ShellCommandError(message: "cannot write \(path)") }
        defer { fclose(file) }
        fputs(text, file)
    }

    @Test func reloadDrainAndMetricsFollowTheReplica() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let primaryApp = try await FakeAppServer.start(name: "p1")
            let replicaApp = try await FakeAppServer.start(name: "r1")
            let path = "/tmp/sy-ops-\(getpid()).yaml"
            try Self.write(Self.yaml(cluster: cluster, primaryApp: primaryApp.port, replicaApp: replicaApp.port, maxLag: "60s"), to: path)
            let configuration = try ConfigLoader.load(path: path)
            let logs = MemoryLogSink()
            let logger = Logger(label: "switchyard.test.ops") { label in StructuredLogHandler(label: label, sink: logs, format: .json, level: .info) }
            let app = SwitchyardApp(
                configurationPath: path, configuration: configuration,
                secrets: Secrets(pinKey: Array("k".utf8), pinKeyIsRandom: false, adminToken: "sesame"), decisionSink: logs, logger: logger, threads: 1)
            let port = try await app.start()
            let adminPort = try #require(app.adminPort)
            let (events, trigger) = AsyncStream<SwitchyardApp.Event>.makeStream()
            let running = Task { await app.run(events: events) }
            let admin = TestHTTPClient(port: adminPort, defaultHeaders: [("Authorization", "Bearer sesame")])

            // Traffic all along: bounded in count, every request must succeed.
            let failures = Mutex(0)
            let stop = Mutex(false)
            let traffic = Task {
                let client = TestHTTPClient(port: port, defaultHeaders: [("Host", "t")])
                for _ in 0..<20_000 {
                    if stop.withLock({ $0 }) { break }
                    let status = (try? await client.get("/items").status) ?? 0
                    if status != 200 { failures.withLock { $0 += 1 } }
                }
            }
            try await eventually("reads on the replica", timeout: .seconds(10)) { replicaApp.requestCount > 5 }

            // Lag builds up under paused replay; with max_lag 60s the replica stays in.
            try await cluster.pauseReplay(cluster.replicas[0])
            try await cluster.writeLoop(rows: 20)
            try await eventually("lag above 1.5 s", timeout: .seconds(10)) {
                (app.monitor.latest?.replicas.first?.lagSeconds ?? 0) > 1.5
            }
            #expect(app.monitor.latest?.replicas.first?.inRotation == true)

            // Reload with max_lag 1s: out at the next poll, traffic moves to the primary.
            try Self.write(Self.yaml(cluster: cluster, primaryApp: primaryApp.port, replicaApp: replicaApp.port, maxLag: "1s"), to: path)
            trigger.yield(.reload)
            try await eventually("out after the reload", timeout: .seconds(10)) { app.monitor.latest?.replicas.first?.cause == .lag }
            let primaryBefore = primaryApp.requestCount
            try await eventually("reads on the primary", timeout: .seconds(10)) { primaryApp.requestCount > primaryBefore + 5 }
            let metrics = try await admin.get("/metrics").bodyString
            #expect(metrics.contains("switchyard_replica_in_rotation{replica=\"replica-a\"} 0"))
            #expect(metrics.contains("switchyard_rotation_changes_total{replica=\"replica-a\",cause=\"lag\"} 1"))
            #expect(metrics.contains("switchyard_requests_total{route=\"primary\",reason=\"no-replica\",code=\"200\"}"))

            // An invalid file keeps the running configuration (still max_lag 1s: still out).
            try Self.write("listen: 127.0.0.1:0\nbogus: true\n", to: path)
            trigger.yield(.reload)
            try await eventually("reload refused", timeout: .seconds(5)) { logs.lines.contains { $0.contains("reload failed") } }
            #expect(app.monitor.latest?.replicas.first?.cause == .lag)

            // Resume: back in; then drain by hand (logged, routing moves), undrain (back at the next good poll).
            try await cluster.resumeReplay(cluster.replicas[0])
            try await eventually("back in", timeout: .seconds(10)) { app.monitor.latest?.replicas.first?.inRotation == true }
            let drained = try await admin.request(method: "POST", path: "/replicas/replica-a/drain")
            #expect(drained.status == 200)
            #expect(app.monitor.latest?.replicas.first?.cause == .drained)
            #expect(logs.lines.contains { $0.contains("\"msg\":\"replica out of rotation\"") && $0.contains("\"cause\":\"drained\"") })
            let status = try await admin.get("/status").bodyString
            #expect(status.contains("\"cause\":\"drained\""))
            let primaryAtDrain = primaryApp.requestCount
            try await eventually("drained: reads on the primary", timeout: .seconds(10)) { primaryApp.requestCount > primaryAtDrain + 5 }
            #expect(try await admin.request(method: "POST", path: "/replicas/nope/drain").status == 404)
            #expect(try await TestHTTPClient(port: adminPort).get("/status").status == 401)
            #expect(try await TestHTTPClient(port: adminPort).get("/healthz").status == 200)
            #expect(try await admin.request(method: "POST", path: "/replicas/replica-a/undrain").status == 200)
            try await eventually("undrained", timeout: .seconds(10)) { app.monitor.latest?.replicas.first?.inRotation == true }

            stop.withLock { $0 = true }
            await traffic.value
            #expect(failures.withLock { $0 } == 0, "requests failed during reloads and drains")
            trigger.yield(.shutdown)
            await running.value
            await primaryApp.stop()
            await replicaApp.stop()
        }
    }
}
