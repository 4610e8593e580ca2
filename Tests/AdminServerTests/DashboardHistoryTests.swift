@testable import AdminServer
import Testing

@Suite("DashboardHistory: lag rings and the decisions ring")
struct DashboardHistoryTests {
    @Test func pointsOlderThanTheWindowAreDropped() {
        let history = DashboardHistory(window: .seconds(10))
        for second in 0...30 {
            history.record(replica: "r", atMillis: UInt64(1_000_000 + second * 1000), lagSeconds: Double(second), lagBytes: 0, inRotation: true)
        }
        let series = history.lagHistory()
        #expect(series.count == 1)
        let times = series[0].points.map(\.atMillis)
        #expect(times.first == 1_020_000)
        #expect(times.last == 1_030_000)
        #expect(times.count == 11)
        #expect(times == times.sorted())
    }

    @Test func thePerReplicaCapBoundsMemory() {
        let history = DashboardHistory(window: .seconds(600), pointsPerReplica: 5)
        for index in 0..<12 {
            history.record(replica: "r", atMillis: UInt64(1_000_000 + index * 10), lagSeconds: Double(index), lagBytes: nil, inRotation: true)
        }
        #expect(history.lagHistory()[0].points.map(\.lagSeconds) == [7, 8, 9, 10, 11])
    }

    @Test func replicasKeepTheirFirstSeenOrderAndThresholds() {
        let history = DashboardHistory()
        history.setThresholds(LagThresholds(maxLagSeconds: 3, readmitBelowSeconds: 1, maxLagBytes: 0))
        for name in ["b", "a", "c", "a"] {
            history.record(replica: name, atMillis: 1000, lagSeconds: 0, lagBytes: 0, inRotation: true)
        }
        let series = history.lagHistory()
        #expect(series.map(\.name) == ["b", "a", "c"])
        #expect(series.allSatisfy { $0.thresholds.maxLagSeconds == 3 && $0.thresholds.readmitBelowSeconds == 1 })
        history.retain(replicas: ["c", "b"])
        #expect(history.lagHistory().map(\.name) == ["c", "b"])
    }

    @Test func decisionsKeepTheLastFifty() {
        let history = DashboardHistory()
        for index in 0..<120 {
            history.record(decision: DashboardTests.decision(index, at: UInt64(index)))
        }
        let decisions = history.recentDecisions()
        #expect(decisions.count == 50)
        #expect(decisions.first?.path == "/items/70")
        #expect(decisions.last?.path == "/items/119")
    }

    @Test func concurrentFeedingIsSafe() async {
        let history = DashboardHistory(pointsPerReplica: 100_000)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in 0..<1000 {
                        history.record(replica: "r\(worker)", atMillis: UInt64(1_000_000 + index), lagSeconds: 0, lagBytes: 0, inRotation: true)
                        history.record(decision: DashboardTests.decision(index, at: UInt64(index)))
                        _ = history.lagHistory().count
                    }
                }
            }
        }
        #expect(history.lagHistory().map(\.points.count) == [1000, 1000, 1000, 1000])
        #expect(history.recentDecisions().count == 50)
    }

    @Test func thresholdsFromTheLagConfiguration() {
        let defaults = LagThresholds.defaults
        #expect(defaults.maxLagSeconds == 5)
        #expect(defaults.readmitBelowSeconds == 2)
        #expect(defaults.maxLagBytes == 64 * 1024 * 1024)
    }

    @Test func theRingBufferWrapsAndDrains() {
        var ring = RingBuffer<Int>(capacity: 3)
        #expect(ring.isEmpty)
        for value in 1...5 {
            ring.append(value)
        }
        #expect(ring.elements == [3, 4, 5])
        ring.removeFirst { $0 < 4 }
        #expect(ring.elements == [4, 5])
        ring.append(6)
        ring.append(7)
        #expect(ring.elements == [5, 6, 7])
        ring.removeFirst { _ in true }
        #expect(ring.isEmpty)
        ring.append(8)
        #expect(ring.elements == [8])
    }
}
