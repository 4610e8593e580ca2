import Foundation
import SwitchyardCore
@testable import SwitchyardTestSupport
import Testing

/// Self-tests of the real-PostgreSQL fixture. Each test starts its own cluster(s); they run in parallel.
@Suite("PostgreSQL fixture", .timeLimit(.minutes(5)), .heavyLoad)
struct PostgresFixtureTests {
    @Test("a primary and a replica: rows replicate; paused replay holds the lag; resume catches up")
    func replicationPauseAndResume() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let replica = try #require(cluster.replicas.first)
            #expect(cluster.replicas.count == 1)
            for node in cluster.nodes {
                #expect((20000...32000).contains(node.port))
                #expect(node.dataDirectory.hasPrefix(cluster.directory + "/"))
            }
            #expect(cluster.primary.port != replica.port)
            #expect(cluster.primary.conninfo == "host=127.0.0.1 port=\(cluster.primary.port) user=switchyard_monitor dbname=app")
            #expect(replica.superuserConninfo == "host=127.0.0.1 port=\(replica.port) user=postgres dbname=app")
            #expect(cluster.startTimings.total > .zero)

            #expect(try await cluster.isInRecovery(replica))
            #expect(try await !cluster.isInRecovery(cluster.primary))
            let monitor = try await cluster.psql(
                on: replica,
                "SELECT current_user, pg_has_role(current_user, 'pg_monitor', 'member');",
                user: PostgresCluster.monitorRole
            )
            #expect(monitor == "switchyard_monitor|t")
            let streaming = try await cluster.psql(
                on: cluster.primary,
                "SELECT application_name, state FROM pg_stat_replication;"
            )
            #expect(streaming == "replica1|streaming")

            let written = try await cluster.writeLoop(rows: 50)
            try await cluster.waitForReplay(replica, atLeast: written)
            #expect(try await cluster.writtenRowCount(on: replica) == 50)

            try await cluster.pauseReplay(replica)
            let pausedAt = try #require(try await cluster.replayLSN(replica))
            let afterLoad = try await cluster.writeLoop(rows: 200)
            #expect(afterLoad > pausedAt)
            // The walreceiver still receives everything; replay stays where it was.
            try await eventually("replica1 received the load", timeout: .seconds(30)) {
                let received = try await cluster.psql(on: replica, "SELECT pg_last_wal_receive_lsn();")
                return LSN(parsing: received).map { $0 >= afterLoad } ?? false
            }
            let stillPaused = try #require(try await cluster.replayLSN(replica))
            #expect(stillPaused == pausedAt)
            #expect(stillPaused < afterLoad)
            #expect(LSN.bytesBehind(afterLoad, stillPaused) > 200 * 100)
            #expect(try await cluster.writtenRowCount(on: replica) == 50)
            #expect(try await cluster.psql(on: replica, "SELECT pg_get_wal_replay_pause_state();") == "paused")

            try await cluster.resumeReplay(replica)
            let caughtUp = try await cluster.waitForReplay(replica, atLeast: afterLoad, timeout: .seconds(30))
            #expect(caughtUp >= afterLoad)
            #expect(try await cluster.writtenRowCount(on: replica) == 250)
        }
    }

    @Test("stop and start a replica, then the primary; replication resumes")
    func stopAndStart() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let replica = try #require(cluster.replicas.first)
            try await cluster.stop(replica, mode: .fast)
            #expect(cluster.serverProcesses(of: replica).isEmpty)
            await #expect(throws: PostgresFixtureError.self) {
                try await cluster.psql(on: replica, "SELECT 1;", timeout: .seconds(10))
            }
            try await eventually("the primary sees replica1's slot inactive", timeout: .seconds(10)) {
                try await cluster.psql(on: cluster.primary, "SELECT active FROM pg_replication_slots WHERE slot_name = 'replica1';") == "f"
            }
            let written = try await cluster.writeLoop(rows: 20)

            try await cluster.start(replica)
            try await cluster.waitUntilStreaming(replica)
            try await cluster.waitForReplay(replica, atLeast: written)
            #expect(try await cluster.writtenRowCount(on: replica) == 20)

            try await cluster.stop(cluster.primary, mode: .fast)
            #expect(cluster.serverProcesses(of: cluster.primary).isEmpty)
            try await cluster.start(cluster.primary)
            try await cluster.waitUntilStreaming(replica)
            let more = try await cluster.writeLoop(rows: 5)
            try await cluster.waitForReplay(replica, atLeast: more)
            #expect(try await cluster.writtenRowCount(on: replica) == 25)
        }
    }

    @Test("sigstop freezes a replica (postmaster and children), sigcont thaws it")
    func sigstopAndSigcont() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let replica = try #require(cluster.replicas.first)
            let tree = cluster.serverProcesses(of: replica)
            let frozen = try await cluster.sigstop(replica)
            // postmaster, checkpointer, background writer, startup, walreceiver at least.
            #expect(frozen.count >= 5)
            // Every process of the tree is frozen, but for one that exited on its own meanwhile.
            #expect(Set(frozen).isSuperset(of: Set(tree.filter(\.isRunning))))
            #expect(frozen.allSatisfy { $0.isStopped })
            #expect(await cluster.frozenProcesses(on: replica) == frozen)

            let clock = ContinuousClock()
            let started = clock.now
            await #expect {
                try await cluster.psql(on: replica, "SELECT 1;", timeout: .seconds(1))
            } throws: { error in
                (error as? PostgresFixtureError)?.code == .timeout
            }
            #expect(started.duration(to: clock.now) < .seconds(10))

            try await cluster.sigcont(replica)
            #expect(!frozen.contains { $0.isStopped })
            #expect(try await cluster.psql(on: replica, "SELECT 1;") == "1")
            let written = try await cluster.writeLoop(rows: 10)
            try await cluster.waitForReplay(replica, atLeast: written)

            // Only the postmaster: new connections hang, the children keep running.
            let postmasterOnly = try await cluster.sigstop(replica, scope: .postmasterOnly)
            #expect(postmasterOnly.count == 1)
            #expect(postmasterOnly.first == cluster.serverProcesses(of: replica).first)
            await #expect {
                try await cluster.psql(on: replica, "SELECT 1;", timeout: .seconds(1))
            } throws: { error in
                (error as? PostgresFixtureError)?.code == .timeout
            }
            let more = try await cluster.writeLoop(rows: 10)
            try await cluster.sigcont(replica)
            try await cluster.waitForReplay(replica, atLeast: more)
            #expect(await cluster.frozenProcesses(on: replica).isEmpty)
        }
    }

    @Test("cutReceiver stops streaming (receive == replay, both behind); restoreReceiver brings it back")
    func cutAndRestoreReceiver() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let replica = try #require(cluster.replicas.first)
            try await cluster.cutReceiver(replica)
            #expect(try await cluster.psql(on: replica, "SELECT count(*) FROM pg_stat_wal_receiver;") == "0")
            let written = try await cluster.writeLoop(rows: 30)
            let positions = try await cluster.psql(
                on: replica,
                "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), pg_last_wal_replay_lsn() < '\(written)'::pg_lsn;"
            )
            #expect(positions == "t|t")
            try await eventually("replica1 gone from pg_stat_replication", timeout: .seconds(10)) {
                try await cluster.psql(on: cluster.primary, "SELECT count(*) FROM pg_stat_replication;") == "0"
            }

            try await cluster.restoreReceiver(replica)
            try await cluster.waitForReplay(replica, atLeast: written)
            #expect(try await cluster.writtenRowCount(on: replica) == 30)
            #expect(try await cluster.psql(on: replica, "SELECT status FROM pg_stat_wal_receiver;") == "streaming")
        }
    }

    @Test("promote one of two replicas: it leaves recovery on timeline 2 and takes writes; the other keeps following")
    func promote() async throws {
        try await withPostgresCluster(replicas: 2) { cluster in
            #expect(cluster.replicas.map(\.name) == ["replica1", "replica2"])
            #expect(Set(cluster.nodes.map(\.port)).count == 3)
            let replica1 = cluster.replicas[0]
            let replica2 = cluster.replicas[1]

            // The monitoring role may read everything but not change replication.
            await #expect {
                try await cluster.psql(on: replica2, "SELECT pg_wal_replay_pause();", user: PostgresCluster.monitorRole)
            } throws: { error in
                (error as? PostgresFixtureError)?.message.contains("permission denied") == true
            }

            try await cluster.promote(replica2)
            #expect(try await !cluster.isInRecovery(replica2))
            #expect(try await cluster.isInRecovery(replica1))
            // pg_control_checkpoint().timeline_id still says 1 until the next checkpoint; the WAL file name has it at once.
            let timeline = try await cluster.psql(on: replica2, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8);")
            #expect(timeline == "00000002")

            let onPromoted = try await cluster.writeLoop(rows: 5, on: replica2)
            #expect(try await cluster.currentLSN(on: replica2) >= onPromoted)
            #expect(try await cluster.writtenRowCount(on: replica2) == 5)

            let onPrimary = try await cluster.writeLoop(rows: 7)
            try await cluster.waitForReplay(replica1, atLeast: onPrimary)
            #expect(try await cluster.writtenRowCount(on: replica1) == 7)
            #expect(try await cluster.writtenRowCount(on: cluster.primary) == 7)
            try await eventually("the primary sees replica2's slot inactive", timeout: .seconds(10)) {
                try await cluster.psql(on: cluster.primary, "SELECT active FROM pg_replication_slots WHERE slot_name = 'replica2';") == "f"
            }
        }
    }

    @Test("two clusters at the same time do not collide")
    func twoClustersInParallel() async throws {
        let rendezvous = Rendezvous(parties: 2)
        let results = try await withThrowingTaskGroup(of: ClusterFacts.self) { group in
            for rows in [11, 22] {
                group.addTask {
                    try await withPostgresCluster(replicas: 1) { cluster in
                        // Both clusters are up at once from here on.
                        try await rendezvous.arriveAndWait(timeout: .seconds(120))
                        let replica = try #require(cluster.replicas.first)
                        let written = try await cluster.writeLoop(rows: rows)
                        try await cluster.waitForReplay(replica, atLeast: written)
                        #expect(try await cluster.writtenRowCount(on: replica) == rows)
                        try await rendezvous.arriveAndWait(timeout: .seconds(120))
                        return ClusterFacts(directory: cluster.directory, ports: cluster.nodes.map(\.port))
                    }
                }
            }
            var all: [ClusterFacts] = []
            for try await facts in group {
                all.append(facts)
            }
            return all
        }
        #expect(results.count == 2)
        #expect(Set(results.map(\.directory)).count == 2)
        #expect(Set(results.flatMap(\.ports)).count == 4)
        for facts in results {
            #expect(!FileManager.default.fileExists(atPath: facts.directory))
        }
    }

    @Test("shutdown stops every server process (also frozen ones), removes the directory, and is idempotent")
    func shutdownLeavesNothing() async throws {
        let cluster = try await PostgresCluster.start(replicas: 1)
        let replica = try #require(cluster.replicas.first)
        let processes = cluster.nodes.flatMap { cluster.serverProcesses(of: $0) }
        #expect(processes.count >= 10)
        #expect(processes.allSatisfy { $0.isRunning })
        try await cluster.sigstop(replica)
        #expect(FileManager.default.fileExists(atPath: cluster.directory))

        async let first: Void = cluster.shutdown()
        async let second: Void = cluster.shutdown()
        _ = await (first, second)

        let survivors = processes.filter { $0.isRunning }
        #expect(survivors.isEmpty, "still running: \(survivors)")
        #expect(!FileManager.default.fileExists(atPath: cluster.directory))
        #expect(await cluster.isShutDown)
        await cluster.shutdown()
        await #expect {
            try await cluster.psql(on: cluster.primary, "SELECT 1;")
        } throws: { error in
            (error as? PostgresFixtureError)?.code == .clusterShutDown
        }
    }

    @Test("withPostgresCluster shuts down when the body throws")
    func withClusterShutsDownOnError() async throws {
        struct Boom: Error {}
        let recorder = FactsRecorder()
        do {
            try await withPostgresCluster(replicas: 0) { cluster in
                await recorder.record(
                    ClusterFacts(directory: cluster.directory, ports: [cluster.primary.port]),
                    processes: cluster.serverProcesses(of: cluster.primary)
                )
                throw Boom()
            }
            Issue.record("the body's error was swallowed")
        } catch is Boom {
            // expected
        }
        let facts = try #require(await recorder.facts)
        let processes = await recorder.processes
        #expect(!processes.isEmpty)
        #expect(!processes.contains { $0.isRunning })
        #expect(!FileManager.default.fileExists(atPath: facts.directory))
    }

    @Test("missing server binaries: start throws and says how to install them")
    func missingBinaries() async throws {
        let options = PostgresCluster.Options(binDirectory: "/nonexistent/postgresql/bin")
        await #expect {
            _ = try await PostgresCluster.start(replicas: 1, options: options)
        } throws: { error in
            guard let error = error as? PostgresFixtureError else { return false }
            return error.code == .serverBinariesMissing
                && error.message.contains("apt-get install -y postgresql libpq-dev")
        }
    }

    @Test("a port with a listener is refused; a failed bind is retried on another port")
    func portsWithListenersAreAvoided() async throws {
        let listener = try LoopbackListener()
        defer { listener.close() }
        #expect(!PostgresPortAllocator.canBind(port: listener.port))
        #expect(PostgresPortAllocator.reserve(in: listener.port...listener.port, for: "test") == nil)

        // The probe is skipped for the first candidate, so the postmaster itself hits the taken port.
        var options = PostgresCluster.Options()
        options.portCandidatesForTesting = [listener.port]
        try await withPostgresCluster(replicas: 0, options: options) { cluster in
            #expect(cluster.primary.port != listener.port)
            #expect(try await cluster.psql(on: cluster.primary, "SELECT 1;") == "1")
            let log = try String(contentsOfFile: cluster.primary.logFile, encoding: .utf8)
            #expect(log.contains("Address already in use"))
        }

        // Only taken ports: a clean failure.
        await #expect {
            _ = try await PostgresCluster.start(replicas: 0, options: PostgresCluster.Options(portRange: listener.port...listener.port))
        } throws: { error in
            (error as? PostgresFixtureError)?.code == .noFreePort
        }
    }
}

struct ClusterFacts: Sendable {
    var directory: String
    var ports: [Int]
}

actor FactsRecorder {
    var facts: ClusterFacts?
    var processes: [PostgresProcessIdentity] = []

    func record(_ facts: ClusterFacts, processes: [PostgresProcessIdentity]) {
        self.facts = facts
        self.processes = processes
    }
}

/// Lets `parties` tasks wait for each other (each call to ``arriveAndWait(timeout:)`` is one arrival).
actor Rendezvous {
    let parties: Int
    var arrivals = 0

    init(parties: Int) {
        self.parties = parties
    }

    private func arrive() -> Int {
        self.arrivals += 1
        return self.arrivals
    }

    func arriveAndWait(timeout: Duration) async throws {
        let arrived = self.arrive()
        let round = (arrived - 1) / self.parties + 1
        try await eventually("\(self.parties) parties at round \(round)", timeout: timeout, pollEvery: .milliseconds(10)) {
            self.arrivals >= round * self.parties
        }
    }
}

@Suite("PostgreSQL fixture: orphans", .timeLimit(.minutes(5)), .heavyLoad)
struct PostgresOrphanTests {
    @Test("a cluster whose owning test process is gone is torn down; a live one is left alone")
    func orphansOfDeadProcessesAreReaped() async throws {
        let base = try PrivateBaseDirectory()
        defer { base.remove() }
        let options = PostgresCluster.Options(baseDirectory: base.path)
        let orphan = try await PostgresCluster.start(replicas: 0, options: options)
        let survivor = try await PostgresCluster.start(replicas: 0, options: options)
        let orphanProcesses = orphan.serverProcesses(of: orphan.primary)
        #expect(!orphanProcesses.isEmpty)

        // Pretend the orphan's owner died: same pid, another start time.
        let me = try #require(PostgresOrphanReaper.currentOwner())
        try "pid=\(me.pid)\nstart=1\npidns=\(me.pidNamespace)\n".write(
            toFile: orphan.directory + "/owner",
            atomically: false,
            encoding: .utf8
        )
        let installation = try await PostgresInstallation.discover(binDirectory: nil)
        await PostgresOrphanReaper.reap(in: base.path, installation: installation, options: options, logger: options.logger)

        #expect(!orphanProcesses.contains { $0.isRunning })
        #expect(!FileManager.default.fileExists(atPath: orphan.directory))
        #expect(try await survivor.psql(on: survivor.primary, "SELECT 1;") == "1")
        await orphan.shutdown()
        await survivor.shutdown()
        #expect(!FileManager.default.fileExists(atPath: survivor.directory))
    }

    @Test("a cluster released without shutdown() still takes its servers down (SIGQUIT from deinit)")
    func releasedClusterStopsItsServers() async throws {
        var cluster: PostgresCluster? = try await PostgresCluster.start(replicas: 0)
        let directory = try #require(cluster?.directory)
        let processes = try #require(cluster.map { $0.serverProcesses(of: $0.primary) })
        #expect(!processes.isEmpty)
        cluster = nil
        try await eventually("the released cluster's servers exit", timeout: .seconds(30)) {
            !processes.contains { $0.isRunning }
        }
        // deinit cannot await, so the directory stays behind; clean it up here.
        try FileManager.default.removeItem(atPath: directory)
    }
}

/// A short directory under /tmp that the `postgres` user can traverse, for clusters of one test.
struct PrivateBaseDirectory {
    let path: String

    init() throws {
        let path = "/tmp/sypg-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(
            atPath: path,
            withIntermediateDirectories: false,
            attributes: [.posixPermissions: 0o711]
        )
        self.path = path
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}
