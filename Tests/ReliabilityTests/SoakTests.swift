import DemoAppKit
import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A bounded soak (issue #7): the real binary in front of demo app servers on real PostgreSQL,
/// mixed load (pinned writes read back, unpinned list reads) with the replica made to lag
/// periodically (replay paused until it leaves rotation, then resumed). The router's RSS and open
/// descriptors are sampled all along; they must stay flat, and nothing may fail or read stale.
/// Short form: 20 s; long form: 30 minutes (SWITCHYARD_SOAK_SECONDS overrides).
@Suite("Reliability: soak", .serialized, .heavyLoad)
struct SoakTests {
    let scale = ReliabilityScale.current

    struct Sample {
        var at: Double
        var rss: Int
        var fds: Int
        var completed: Int
        var failed: Int
    }

    @Test func mixedLoadWithPeriodicReplicaLagStaysFlat() async throws {
        let scale = self.scale
        let duration = scale.soakDuration
        try await withPostgresCluster(replicas: 1) { cluster in
            _ = try await cluster.psql(
                on: cluster.primary,
                "CREATE TABLE IF NOT EXISTS items (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());")
            let lsn = try await cluster.currentLSN()
            _ = try await cluster.waitForReplay(cluster.replicas[0], atLeast: lsn)
            let primaryApp = try await DemoAppServer.start(.init(name: "app-p", database: cluster.primary.superuserConninfo))
            let replicaApp = try await DemoAppServer.start(.init(name: "app-a", database: cluster.replicas[0].superuserConninfo))
            var setup = ServeStack.Setup(primaryPorts: [primaryApp.port], replicaPorts: [replicaApp.port])
            setup.primaryDatabase = cluster.primary.conninfo
            setup.replicaDatabase = cluster.replicas[0].conninfo
            setup.pinMode = "lsn"
            setup.decisions = false
            setup.lag = "{ poll_interval: 200ms, max_lag: 2s, max_lag_bytes: 0, readmit_below: 1s, readmit_after: 3, query_timeout: 500ms }"
            let stack = try await ServeStack.start(setup, name: "soak")
            defer { stack.process.kill() }
            try await eventually("replica in rotation", timeout: .seconds(30)) {
                (try? await TestHTTPClient(port: stack.port, defaultHeaders: [("Host", "t")]).get("/items"))?.header("x-db-role") == "replica"
            }
            let clients = max(8, scale.loadClients / 4)
            let load = DatabaseFaultTests.load(port: stack.port, clients: clients, duration: duration, okSampleStride: scale.name == "long" ? 50 : 1)
            var samples: [Sample] = []
            var episodes = 0
            var episodesOut = 0
            let clock = ContinuousClock()
            let start = clock.now
            var nextEpisode = start + scale.soakLagEvery / 2
            var nextSample = start
            let sampleEvery: Duration = scale.name == "long" ? .seconds(10) : .seconds(1)
            while clock.now - start < duration && !load.isFinished {
                if clock.now >= nextSample {
                    samples.append(Sample(
                        at: load.secondsSinceStart, rss: stack.residentBytes, fds: stack.openFileDescriptors, completed: load.completed, failed: load.failed))
                    nextSample = nextSample + sampleEvery
                }
                if clock.now >= nextEpisode && clock.now - start < duration - .seconds(8) {
                    // A lag episode: replay paused until the replica is out for lag, then resumed.
                    episodes += 1
                    let outBefore = stack.count("\"replica out of rotation\"")
                    let inBefore = stack.count("\"replica back in rotation\"")
                    try await cluster.pauseReplay(cluster.replicas[0])
                    let left = (try? await eventually("out for lag", timeout: .seconds(15)) { stack.count("\"replica out of rotation\"") > outBefore }) != nil
                    try await cluster.resumeReplay(cluster.replicas[0])
                    if left {
                        episodesOut += 1
                        try await eventually("back in rotation", timeout: .seconds(30)) { stack.count("\"replica back in rotation\"") > inBefore }
                    }
                    nextEpisode = clock.now + scale.soakLagEvery
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            load.stop()
            let summary = try await load.wait()
            samples.append(Sample(at: load.secondsSinceStart, rss: stack.residentBytes, fds: stack.openFileDescriptors, completed: load.completed, failed: load.failed))
            let exit = await stack.stop()
            await primaryApp.stop()
            await replicaApp.stop()

            let stale = summary.samples.filter { $0.tag == DatabaseFaultTests.readBackTag && $0.status == 404 }.count
            // Flat: the last third of the run against the first third (after the first sample).
            let third = max(1, samples.count / 3)
            let early = samples.dropFirst().prefix(third)
            let late = samples.suffix(third)
            let earlyRSS = early.map(\.rss).max() ?? 0
            let lateRSS = late.map(\.rss).max() ?? 0
            let earlyFDs = early.map(\.fds).max() ?? 0
            let lateFDs = late.map(\.fds).max() ?? 0
            #expect(load.completed > 0)
            #expect(load.failed == 0, "\(summary)")
            #expect(stale == 0)
            #expect(episodes > 0 && episodesOut == episodes, "\(episodesOut) of \(episodes) lag episodes took the replica out")
            // Generous bounds: growth of a leak shows as a trend far beyond these.
            #expect(lateRSS <= earlyRSS + earlyRSS / 2 + 32 * 1_048_576, "RSS \(earlyRSS) → \(lateRSS)")
            #expect(lateFDs <= earlyFDs + 64, "descriptors \(earlyFDs) → \(lateFDs)")
            #expect(exit == 0)
            let minutes = ReliabilityReport.seconds(duration) / 60
            ReliabilityReport.record(
                test: "mixedLoadWithPeriodicReplicaLagStaysFlat",
                fault: "soak: \(String(format: "%.1f", minutes)) min mixed load (\(clients) clients, pinned write + read-back, list reads) with a replica lag episode every \(scale.soakLagEvery)",
                measured: "router RSS and open descriptors (max of first vs last third), failed requests, stale read-backs, lag episodes",
                result: "\(load.completed) requests, \(load.failed) failed, \(stale) stale read-backs; \(episodesOut) of \(episodes) lag episodes took the replica out and back; RSS \(HostileClientTests.mib(earlyRSS)) → \(HostileClientTests.mib(lateRSS)); descriptors \(earlyFDs) → \(lateFDs)",
                figures: [
                    "requests": Double(load.completed), "failed": Double(load.failed), "stale": Double(stale), "episodes": Double(episodes),
                    "rss_early": Double(earlyRSS), "rss_late": Double(lateRSS), "fds_early": Double(earlyFDs), "fds_late": Double(lateFDs),
                    "minutes": minutes,
                ])
        }
    }
}
