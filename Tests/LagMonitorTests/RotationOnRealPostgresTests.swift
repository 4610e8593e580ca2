import LagMonitor
import SwitchyardCore
import SwitchyardTestSupport
import Testing

/// The lag monitor against a real PostgreSQL 15 primary and streaming replicas
/// (the fixture starts them; missing server binaries fail with how to install them).
@Suite("Lag monitor on real PostgreSQL", .serialized, .heavyLoad)
struct RotationOnRealPostgresTests {
    @Test func aCaughtUpReplicaStaysInRotationThroughTenIdleSeconds() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let harness = MonitorHarness(configuration: MonitorHarness.configuration(cluster))
            harness.start()
            try await eventually("first round", timeout: .seconds(10)) { harness.latest != nil }
            // An observation window, not a wait: the property must hold for all of it.
            try await Task.sleep(for: .seconds(10))
            harness.stop()
            let reports = harness.allReports
            #expect(reports.count >= 20, "only \(reports.count) poll rounds in 10 s")
            #expect(reports.allSatisfy { $0.replicas.first?.inRotation == true })
            #expect(reports.allSatisfy { $0.replicas.first?.lagSeconds == 0 })
            #expect(harness.rotationLines.isEmpty)
        }
    }

    @Test func pausedReplayUnderWritesTakesItOutAndResumeBringsItBackAfterReadmitAfterPolls() async throws {
        try await withPostgresCluster(replicas: 2) { cluster in
            let lag = MonitorHarness.fastLag
            let harness = MonitorHarness(configuration: MonitorHarness.configuration(cluster, lag: lag))
            harness.start()
            try await eventually("both replicas in rotation", timeout: .seconds(10)) {
                harness.latest?.replicas.allSatisfy(\.inRotation) == true
            }
            try await cluster.pauseReplay(cluster.replicas[0])
            try await cluster.writeLoop(rows: 50)
            // SPEC bound: max_lag + 2 × poll_interval + query_timeout, plus slack for a loaded 2-core machine.
            let bound = lag.maxLag + lag.pollInterval * 2 + lag.queryTimeout
            try await eventually("replica-a out for lag", timeout: bound + .seconds(2)) {
                harness.replica("replica-a")?.cause == .lag
            }
            #expect(harness.replica("replica-b")?.inRotation == true)
            let out = try #require(harness.rotationLines.first { $0["msg"] == "replica out of rotation" })
            #expect(out["replica"] == "replica-a")
            #expect(out["cause"] == "lag")
            #expect(Double(out["lag_s"] ?? "") ?? 0 >= lag.maxLag.totalSeconds)
            #expect(Double(out["lag_bytes"] ?? "") ?? 0 > 0)

            try await cluster.resumeReplay(cluster.replicas[0])
            try await eventually("replica-a back", timeout: .seconds(10)) { harness.replica("replica-a")?.inRotation == true }
            harness.stop()
            // Hysteresis: the flip came after readmit_after consecutive good polls.
            let series = harness.allReports.compactMap { $0.replicas.first { $0.name == "replica-a" } }
            let flip = try #require(series.lastIndex { !$0.inRotation })
            let goodBefore = series[...flip].reversed().prefix { ($0.lagSeconds ?? 99) < lag.readmitBelow.totalSeconds }.count
            #expect(goodBefore >= lag.readmitAfter - 1, "only \(goodBefore) good polls before readmission")
            #expect(harness.rotationLines.contains { $0["msg"] == "replica back in rotation" && $0["replica"] == "replica-a" })
        }
    }

    @Test func aSmallByteLimitTakesItOutForLagBytes() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            var lag = MonitorHarness.fastLag
            lag.maxLag = .seconds(60)
            lag.readmitBelow = .seconds(1)
            lag.maxLagBytes = 4096
            let harness = MonitorHarness(configuration: MonitorHarness.configuration(cluster, lag: lag))
            harness.start()
            try await eventually("in rotation", timeout: .seconds(10)) { harness.replica("replica-a")?.inRotation == true }
            try await cluster.pauseReplay(cluster.replicas[0])
            try await cluster.writeLoop(rows: 100)
            try await eventually("out for bytes", timeout: .seconds(5)) { harness.replica("replica-a")?.cause == .lagBytes }
            try await cluster.resumeReplay(cluster.replicas[0])
            try await eventually("back", timeout: .seconds(10)) { harness.replica("replica-a")?.inRotation == true }
            harness.stop()
        }
    }

    @Test func aStoppedReplicaIsOutAsUnreachableAndComesBack() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let harness = MonitorHarness(configuration: MonitorHarness.configuration(cluster))
            harness.start()
            try await eventually("in rotation", timeout: .seconds(10)) { harness.replica("replica-a")?.inRotation == true }
            try await cluster.stop(cluster.replicas[0])
            try await eventually("out unreachable", timeout: .seconds(5)) { harness.replica("replica-a")?.cause == .unreachable }
            #expect(harness.latest?.primary.reachable == true)
            try await cluster.start(cluster.replicas[0])
            try await eventually("back", timeout: .seconds(15)) { harness.replica("replica-a")?.inRotation == true }
            harness.stop()
        }
    }

    @Test func aFrozenReplicaIsOutWithinItsBoundAndNeverStallsTheOthers() async throws {
        try await withPostgresCluster(replicas: 2) { cluster in
            let lag = MonitorHarness.fastLag
            let harness = MonitorHarness(configuration: MonitorHarness.configuration(cluster, lag: lag))
            harness.start()
            try await eventually("in rotation", timeout: .seconds(10)) { harness.latest?.replicas.allSatisfy(\.inRotation) == true }
            let roundsBefore = harness.allReports.count
            _ = try await cluster.sigstop(cluster.replicas[0])
            let bound = (lag.pollInterval + lag.queryTimeout) * lag.unreachableAfter
            try await eventually("out unreachable", timeout: bound + .seconds(2)) { harness.replica("replica-a")?.cause == .unreachable }
            // Keep it frozen for a few more rounds: every round still completes, bounded by query_timeout,
            // and the primary and the other replica are polled every time.
            let frozenRounds = harness.allReports.count
            try await eventually("three more rounds", timeout: .seconds(10)) { harness.allReports.count >= frozenRounds + 3 }
            let during = harness.allReports[roundsBefore...]
            #expect(during.allSatisfy { $0.primary.reachable })
            #expect(during.allSatisfy { $0.replicas.last?.reachable == true })
            #expect(during.allSatisfy { $0.roundSeconds < lag.queryTimeout.totalSeconds + 1.0 })
            try await cluster.sigcont(cluster.replicas[0])
            try await eventually("back", timeout: .seconds(15)) { harness.replica("replica-a")?.inRotation == true }
            harness.stop()
        }
    }

    @Test func aReplicaWhoseReceiverIsCutIsOutAsReceiverDown() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let harness = MonitorHarness(configuration: MonitorHarness.configuration(cluster))
            harness.start()
            try await eventually("in rotation", timeout: .seconds(10)) { harness.replica("replica-a")?.inRotation == true }
            try await cluster.cutReceiver(cluster.replicas[0])
            try await eventually("receiver-down", timeout: .seconds(10)) { harness.replica("replica-a")?.cause == .receiverDown }
            try await cluster.restoreReceiver(cluster.replicas[0])
            try await eventually("back", timeout: .seconds(15)) { harness.replica("replica-a")?.inRotation == true }
            harness.stop()
        }
    }

    @Test func aPromotedReplicaIsOutAsPromoted() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let harness = MonitorHarness(configuration: MonitorHarness.configuration(cluster))
            harness.start()
            try await eventually("in rotation", timeout: .seconds(10)) { harness.replica("replica-a")?.inRotation == true }
            try await cluster.promote(cluster.replicas[0])
            try await eventually("promoted", timeout: .seconds(10)) { harness.replica("replica-a")?.cause == .promoted }
            #expect(harness.replica("replica-a")?.inRecovery == false)
            harness.stop()
        }
    }

    @Test func anUnreachablePrimaryIsReportedLoudly() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let harness = MonitorHarness(configuration: MonitorHarness.configuration(cluster))
            harness.start()
            try await eventually("in rotation", timeout: .seconds(10)) { harness.latest?.primary.reachable == true }
            try await cluster.stop(cluster.primary)
            try await eventually("primary unreachable", timeout: .seconds(5)) { harness.latest?.primary.reachable == false }
            #expect(harness.logs.lines.contains { $0.contains("\"level\":\"error\"") && $0.contains("primary unreachable") })
            harness.stop()
        }
    }
}
