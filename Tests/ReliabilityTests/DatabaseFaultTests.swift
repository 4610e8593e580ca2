import DemoAppKit
import LagMonitor
import Logging
import SwitchyardApp
import SwitchyardCore
import SwitchyardLogging
import SwitchyardTestSupport
import Synchronization
import Testing

/// Database faults under load (issue #7) on real PostgreSQL 15: a primary and two streaming
/// replicas, demo app servers that really read their database, Switchyard in-process with its
/// lag monitor. Pinned clients write and read every write back (a 404 is a stale read); unpinned
/// clients read lists. Time to leave and to come back is measured, not asserted.
@Suite("Reliability: database faults under load", .serialized, .heavyLoad)
struct DatabaseFaultTests {
    let scale = ReliabilityScale.current

    static let writeTag = 1
    static let readBackTag = 2
    static let listTag = 3

    final class Stack: Sendable {
        let cluster: PostgresCluster
        let apps: [DemoAppServer]
        let router: SwitchyardApp
        let port: Int
        let logs: MemoryLogSink

        init(cluster: PostgresCluster, apps: [DemoAppServer], router: SwitchyardApp, port: Int, logs: MemoryLogSink) {
            self.cluster = cluster
            self.apps = apps
            self.router = router
            self.port = port
            self.logs = logs
        }

        func replica(_ name: String) -> DatabaseStatus? {
            self.router.monitor.latest?.replicas.first { $0.name == name }
        }

        func inRotation(_ name: String) -> Bool { self.replica(name)?.inRotation == true }

        func stop() async {
            await self.router.shutdown()
            for app in self.apps { await app.stop() }
        }
    }

    static func startStack(_ cluster: PostgresCluster) async throws -> Stack {
        _ = try await cluster.psql(
            on: cluster.primary,
            "CREATE TABLE IF NOT EXISTS items (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());")
        let lsn = try await cluster.currentLSN()
        for replica in cluster.replicas { _ = try await cluster.waitForReplay(replica, atLeast: lsn) }
        let primaryApp = try await DemoAppServer.start(.init(name: "app-p", database: cluster.primary.superuserConninfo))
        let appA = try await DemoAppServer.start(.init(name: "app-a", database: cluster.replicas[0].superuserConninfo))
        let appB = try await DemoAppServer.start(.init(name: "app-b", database: cluster.replicas[1].superuserConninfo))
        func server(_ app: DemoAppServer) -> [UpstreamServer] { [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: app.port))] }
        let configuration = SwitchyardConfiguration(
            listen: ServerAddress(host: "127.0.0.1", port: 0),
            log: LogConfiguration(decisionHeader: true),
            primary: PrimaryConfiguration(database: cluster.primary.conninfo, servers: server(primaryApp)),
            replicas: [
                ReplicaConfiguration(name: "replica-a", database: cluster.replicas[0].conninfo, servers: server(appA)),
                ReplicaConfiguration(name: "replica-b", database: cluster.replicas[1].conninfo, servers: server(appB)),
            ],
            pin: PinConfiguration(mode: .lsn, ttl: .seconds(30)),
            lag: LagConfiguration(
                pollInterval: .milliseconds(200), maxLag: .seconds(2), maxLagBytes: 0, readmitBelow: .seconds(1), readmitAfter: 3,
                queryTimeout: .milliseconds(500), unreachableAfter: 2),
            upstream: UpstreamConfiguration(connectTimeout: .milliseconds(500), responseTimeout: .seconds(5), retries: 2, maxFails: 1, failTimeout: .seconds(1))
        )
        let logs = MemoryLogSink()
        let logger = Logger(label: "switchyard.test.reliability.db") { label in
            StructuredLogHandler(label: label, sink: logs, format: .json, level: .notice)
        }
        let router = SwitchyardApp(
            configurationPath: "/dev/null", configuration: configuration,
            secrets: Secrets(pinKey: Array("reliability-db".utf8), pinKeyIsRandom: false, adminToken: nil),
            decisionSink: NullLogSink(), logger: logger, threads: 2)
        let port = try await router.start()
        let stack = Stack(cluster: cluster, apps: [primaryApp, appA, appB], router: router, port: port, logs: logs)
        try await eventually("both replicas in rotation", timeout: .seconds(20)) { stack.inRotation("replica-a") && stack.inRotation("replica-b") }
        return stack
    }

    /// Pinned clients (even numbers) alternate a write and the read-back of that write; unpinned
    /// clients (odd numbers) read the list. Bounded by `duration`.
    static func load(_ stack: Stack, clients: Int, duration: Duration) -> LoadGenerator {
        Self.load(port: stack.port, clients: clients, duration: duration)
    }

    static func load(port: Int, clients: Int, duration: Duration, okSampleStride: Int = 1) -> LoadGenerator {
        let pending = Mutex<[Int: String]>([:])
        return LoadGenerator.start(
            LoadGenerator.Options(
                port: port, clients: clients, requestsPerClient: Int.max, duration: duration, keepsCookies: true, okSampleStride: okSampleStride),
            validate: { request, response in
                switch request.tag {
                case Self.writeTag: return response.status == 201 ? nil : "write \(response.status)"
                case Self.readBackTag: return response.status == 200 ? nil : (response.status == 404 ? "STALE read-back" : "read-back \(response.status)")
                default: return response.status == 200 ? nil : "list \(response.status)"
                }
            },
            observe: { request, sample, response in
                guard request.tag == Self.writeTag, sample.ok, let response else { return }
                let body = response.bodyString
                guard let start = body.range(of: "\"id\":") else { return }
                let id = String(body[start.upperBound...].prefix { $0.isNumber })
                pending.withLock { $0[sample.client] = id }
            },
            makeRequest: { client, n in
                guard client % 2 == 0 else { return LoadRequest(path: "/items", tag: Self.listTag) }
                if let id = pending.withLock({ $0.removeValue(forKey: client) }) {
                    return LoadRequest(path: "/items/\(id)", tag: Self.readBackTag)
                }
                return LoadRequest(method: "POST", path: "/items", body: Array("item \(client)-\(n)".utf8), tag: Self.writeTag)
            })
    }

    struct Windows {
        var faultAt: Double
        var recoverAt: Double
    }

    static func p(_ percentile: Double, _ samples: [LoadSample]) -> String {
        ReliabilityReport.ms(LoadSummary.percentileMilliseconds(percentile, of: samples.filter(\.ok)))
    }

    /// Runs `fault` under load: waits for the load to settle, injects, measures until the replica
    /// (or replicas) named in `watch` leave rotation, holds, recovers, measures until they are back.
    static func scenario(
        name: String, test: String, scale: ReliabilityScale, watch: [String], comesBack: Bool = true, untouched: Int,
        inject: @escaping @Sendable (Stack) async throws -> Void, hold: Duration,
        recover: @escaping @Sendable (Stack) async throws -> Void
    ) async throws {
        try await withPostgresCluster(replicas: 2) { cluster in
            let stack = try await Self.startStack(cluster)
            let load = Self.load(stack, clients: scale.loadClients, duration: scale.phase * 3 + hold + .seconds(60))
            do {
                try await eventually("load flowing", timeout: .seconds(30)) { load.completed > 500 }
                try await Task.sleep(for: scale.phase)
                let faultAt = load.secondsSinceStart
                try await inject(stack)
                try await eventually("\(watch) out of rotation", timeout: .seconds(30), pollEvery: .milliseconds(20)) {
                    watch.allSatisfy { !stack.inRotation($0) }
                }
                let leftAfter = load.secondsSinceStart - faultAt
                let causes = watch.map { "\($0): \(stack.replica($0)?.cause?.rawValue ?? "?")" }.joined(separator: ", ")
                try await Task.sleep(for: hold)
                let recoverAt = load.secondsSinceStart
                try await recover(stack)
                var backAfter: Double?
                if comesBack {
                    try await eventually("\(watch) back in rotation", timeout: .seconds(60), pollEvery: .milliseconds(20)) {
                        watch.allSatisfy { stack.inRotation($0) }
                    }
                    backAfter = load.secondsSinceStart - recoverAt
                }
                try await Task.sleep(for: scale.phase)
                load.stop()
                let summary = try await load.wait()
                await stack.stop()

                let stale = summary.samples.filter { $0.tag == Self.readBackTag && $0.status == 404 }.count
                let readBacks = summary.samples.filter { $0.tag == Self.readBackTag }.count
                let before = summary.samples(tag: untouched, from: 1, to: faultAt)
                let during = summary.samples(tag: untouched, from: faultAt, to: recoverAt)
                // A request touches the fault when it was in flight at any moment of it (injection to
                // readmission, plus a second for the pools to settle).
                let settled = recoverAt + (backAfter ?? 0) + 1
                let failedDuring = summary.samples.filter { !$0.ok && $0.start + $0.latency >= faultAt && $0.start < settled }.count
                let failedOutside = summary.samples.filter { !$0.ok && ($0.start + $0.latency < faultAt || $0.start >= settled) }
                #expect(stale == 0, "\(stale) stale read-backs: \(summary)")
                #expect(readBacks > 0)
                #expect(failedOutside.isEmpty, "failures outside the fault: \(failedOutside.prefix(5))")
                let untouchedName = untouched == Self.writeTag ? "writes" : "reads"
                ReliabilityReport.record(
                    test: test, fault: name,
                    measured: "time to leave and come back; stale read-backs of pinned writes; failed requests during the fault; p50/p99 of \(untouchedName) (not touching the fault) before vs during",
                    result: "out after \(String(format: "%.2f", leftAfter)) s (\(causes)), "
                        + (backAfter.map { "back \(String(format: "%.2f", $0)) s after recovery" } ?? "stays out")
                        + "; \(stale) stale of \(readBacks) read-backs; \(failedDuring) failed during the fault, \(failedOutside.count) outside, of \(summary.total); \(untouchedName) p50/p99 \(Self.p(50, before))/\(Self.p(99, before)) before, \(Self.p(50, during))/\(Self.p(99, during)) during",
                    figures: [
                        "left_after_s": leftAfter, "back_after_s": backAfter ?? -1, "stale": Double(stale), "read_backs": Double(readBacks),
                        "failed_during": Double(failedDuring), "requests": Double(summary.total),
                        "untouched_p99_before_ms": LoadSummary.percentileMilliseconds(99, of: before.filter(\.ok)) ?? -1,
                        "untouched_p99_during_ms": LoadSummary.percentileMilliseconds(99, of: during.filter(\.ok)) ?? -1,
                    ])
            } catch {
                load.stop()
                _ = try? await load.wait()
                Issue.record("router log: \(stack.logs.lines.suffix(20))")
                await stack.stop()
                throw error
            }
        }
    }

    @Test func aStoppedReplicaLeavesAndComesBack() async throws {
        try await Self.scenario(
            name: "replica stopped (pg_ctl stop -m fast), then started", test: "aStoppedReplicaLeavesAndComesBack", scale: self.scale,
            watch: ["replica-a"], untouched: Self.writeTag,
            inject: { stack in try await stack.cluster.stop(stack.cluster.replicas[0]) }, hold: self.scale.phase,
            recover: { stack in
                try await stack.cluster.start(stack.cluster.replicas[0])
                _ = try await stack.cluster.waitUntilStreaming(stack.cluster.replicas[0])
            })
    }

    @Test func aSIGSTOPpedReplicaLeavesAndComesBack() async throws {
        try await Self.scenario(
            name: "replica SIGSTOPped (postmaster and children) for \(self.scale.sigstopFor)", test: "aSIGSTOPpedReplicaLeavesAndComesBack",
            scale: self.scale, watch: ["replica-a"], untouched: Self.writeTag,
            inject: { stack in try await stack.cluster.sigstop(stack.cluster.replicas[0]) }, hold: self.scale.sigstopFor,
            recover: { stack in try await stack.cluster.sigcont(stack.cluster.replicas[0]) })
    }

    @Test func aPromotedReplicaLeavesForGood() async throws {
        try await Self.scenario(
            name: "replica promoted (pg_promote())", test: "aPromotedReplicaLeavesForGood", scale: self.scale,
            watch: ["replica-b"], comesBack: false, untouched: Self.writeTag,
            inject: { stack in try await stack.cluster.promote(stack.cluster.replicas[1]) }, hold: self.scale.phase,
            recover: { _ in })
    }

    /// The primary stopped and restarted: writes fail while it is down (nothing to do about that);
    /// what must hold is no stale read-back, and everything working again after the restart.
    @Test func aStoppedPrimaryAndItsRestart() async throws {
        let scale = self.scale
        try await withPostgresCluster(replicas: 2) { cluster in
            let stack = try await Self.startStack(cluster)
            let load = Self.load(stack, clients: scale.loadClients, duration: scale.phase * 4 + .seconds(60))
            do {
                try await eventually("load flowing", timeout: .seconds(30)) { load.completed > 500 }
                try await Task.sleep(for: scale.phase)
                let faultAt = load.secondsSinceStart
                try await cluster.stop(cluster.primary)
                try await eventually("primary seen unreachable", timeout: .seconds(30), pollEvery: .milliseconds(20)) {
                    stack.router.monitor.latest?.primary.reachable == false
                }
                let seenAfter = load.secondsSinceStart - faultAt
                try await Task.sleep(for: scale.phase)
                let replicasDuring = ["replica-a", "replica-b"].map { "\($0): \(stack.replica($0).map { $0.inRotation ? "in" : "out (\($0.cause?.rawValue ?? "?"))" } ?? "?")" }
                let recoverAt = load.secondsSinceStart
                try await cluster.start(cluster.primary)
                for replica in cluster.replicas { _ = try await cluster.waitUntilStreaming(replica) }
                try await eventually("replicas back in rotation", timeout: .seconds(60), pollEvery: .milliseconds(20)) {
                    stack.inRotation("replica-a") && stack.inRotation("replica-b")
                }
                let backAfter = load.secondsSinceStart - recoverAt
                let okWritesBefore = load.completed
                try await eventually("writes succeed again", timeout: .seconds(30)) { load.completed > okWritesBefore + 500 }
                try await Task.sleep(for: scale.phase)
                load.stop()
                let summary = try await load.wait()
                await stack.stop()

                let stale = summary.samples.filter { $0.tag == Self.readBackTag && $0.status == 404 }.count
                let readBacks = summary.samples.filter { $0.tag == Self.readBackTag }.count
                let firstWriteBack = summary.samples.first { $0.tag == Self.writeTag && $0.ok && $0.start >= recoverAt }.map { $0.start - recoverAt }
                let settled = recoverAt + backAfter + 1
                let failedAfter = summary.samples.filter { !$0.ok && $0.start >= settled }
                let failedBefore = summary.samples.filter { !$0.ok && $0.start + $0.latency < faultAt }
                let duringWrites = summary.samples(tag: Self.writeTag, from: faultAt, to: recoverAt)
                let duringLists = summary.samples(tag: Self.listTag, from: faultAt, to: recoverAt)
                #expect(stale == 0, "\(stale) stale read-backs")
                #expect(readBacks > 0)
                #expect(failedBefore.isEmpty && failedAfter.isEmpty, "failures outside the outage: \((failedBefore + failedAfter).prefix(5))")
                ReliabilityReport.record(
                    test: "aStoppedPrimaryAndItsRestart", fault: "primary stopped (pg_ctl stop -m fast), then started",
                    measured: "time until seen down; replicas' rotation meanwhile; time until writes succeed and replicas are back after the restart; stale read-backs; failed requests",
                    result: "seen unreachable after \(String(format: "%.2f", seenAfter)) s; during the outage \(replicasDuring.joined(separator: ", ")): "
                        + "\(duringWrites.filter { !$0.ok }.count) of \(duringWrites.count) writes and \(duringLists.filter { !$0.ok }.count) of \(duringLists.count) list reads failed; "
                        + "after the restart first write ok after \(firstWriteBack.map { String(format: "%.2f", $0) } ?? "-") s, replicas back after \(String(format: "%.2f", backAfter)) s; "
                        + "\(stale) stale of \(readBacks) read-backs; \(failedAfter.count) failed after, \(failedBefore.count) before, of \(summary.total)",
                    figures: [
                        "seen_down_s": seenAfter, "back_after_s": backAfter, "first_write_after_s": firstWriteBack ?? -1, "stale": Double(stale),
                        "read_backs": Double(readBacks), "failed_after": Double(failedAfter.count), "requests": Double(summary.total),
                    ])
            } catch {
                load.stop()
                _ = try? await load.wait()
                Issue.record("router log: \(stack.logs.lines.suffix(20))")
                await stack.stop()
                throw error
            }
        }
    }
}

/// Decision lines are not needed here: dropped.
final class NullLogSink: LogLineSink {
    func write(line: String) {}
}
