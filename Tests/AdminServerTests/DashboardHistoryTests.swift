@testable import AdminServer
import Testing

@Suite("DashboardHistory: lag rings, request totals and the decisions ring")
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

    @Test func recentItemsKeepTheLastFifty() {
        let recent = RecentItems<DecisionSummary>(capacity: 50)
        for index in 0..<120 {
            recent.record(DashboardTests.decision(index, at: UInt64(index)))
        }
        let decisions = recent.elements
        #expect(decisions.count == 50)
        #expect(decisions.first?.path == "/items/70")
        #expect(decisions.last?.path == "/items/119")
    }

    @Test func concurrentFeedingIsSafe() async {
        let history = DashboardHistory(pointsPerReplica: 100_000)
        let recent = RecentItems<DecisionSummary>(capacity: 50)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in 0..<1000 {
                        history.record(replica: "r\(worker)", atMillis: UInt64(1_000_000 + index), lagSeconds: 0, lagBytes: 0, inRotation: true)
                        recent.record(DashboardTests.decision(index, at: UInt64(index)))
                        _ = history.lagHistory().count
                    }
                }
            }
        }
        #expect(history.lagHistory().map(\.points.count) == [1000, 1000, 1000, 1000])
        #expect(recent.elements.count == 50)
    }

    @Test func totalsOlderThanTheWindowAreDropped() throws {
        let history = DashboardHistory(window: .seconds(10))
        for second in 0...30 {
            history.recordTotals(
                atMillis: UInt64(1_000_000 + second * 1000), requests: second * 3,
                byRoute: ["primary": second, "replica": second * 2], byReason: ["write": second, "read": second * 2])
        }
        let series = history.requestTotalsHistory()
        let times = series.points.map(\.atMillis)
        #expect(times.first == 1_020_000)
        #expect(times.last == 1_030_000)
        #expect(times.count == 11)
        #expect(times == times.sorted())
        #expect(series.points.map(\.requests) == Array(stride(from: 60, through: 90, by: 3)))
        let newest = try #require(series.points.last)
        #expect(series.byRoute(newest) == ["primary": 30, "replica": 60])
        #expect(series.byReason(newest) == ["write": 30, "read": 60])
    }

    @Test func theTotalsCapBoundsMemory() {
        let history = DashboardHistory(window: .seconds(600), pointsPerReplica: 5, totalsCapacity: 4)
        #expect(history.totalsCapacity == 4)
        for index in 0..<12 {
            history.recordTotals(atMillis: UInt64(1_000_000 + index * 10), requests: index, byRoute: [:], byReason: [:])
        }
        #expect(history.requestTotalsHistory().points.map(\.requests) == [8, 9, 10, 11])
        // The default keeps 10 minutes of 250 ms rounds, and no more.
        let defaults = DashboardHistory()
        #expect(defaults.totalsCapacity == 2400)
        for index in 0..<3000 {
            defaults.recordTotals(atMillis: UInt64(1_000_000 + index * 100), requests: index, byRoute: ["primary": index], byReason: ["write": index])
        }
        let kept = defaults.requestTotalsHistory().points
        #expect(kept.count == 2400)
        #expect(kept.last?.requests == 2999)
    }

    @Test func totalsColumnsFollowFirstSeenNamesAndStartAtZero() {
        let history = DashboardHistory()
        history.recordTotals(atMillis: 1000, requests: 0, byRoute: [:], byReason: [:])
        history.recordTotals(atMillis: 1250, requests: 3, byRoute: ["primary": 1, "replica": 2], byReason: ["write": 1, "read": 2])
        history.recordTotals(atMillis: 1500, requests: 5, byRoute: ["primary": 2, "replica": 3], byReason: ["write": 2, "read": 2, "rule:reports": 1])
        let series = history.requestTotalsHistory()
        #expect(series.routes == ["primary", "replica"])
        #expect(series.reasons == ["read", "write", "rule:reports"])
        #expect(series.points.map(\.byRoute) == [[0, 0], [1, 2], [2, 3]])
        #expect(series.points.map(\.byReason) == [[0, 0, 0], [2, 1, 0], [2, 2, 1]])
        #expect(series.points.allSatisfy { $0.byRoute.count == series.routes.count && $0.byReason.count == series.reasons.count })
    }

    @Test func thinningKeepsOneSampleASecondAndTheNewest() {
        let points = (0..<20).map { index in
            RequestTotalsSeries.Point(atMillis: UInt64(10_000 + index * 250), requests: index, byRoute: [index], byReason: [index])
        }
        let series = RequestTotalsSeries(routes: ["primary"], reasons: ["write"], points: points)
        let thinned = series.thinned(spacingMillis: 1000)
        #expect(thinned.points.map(\.atMillis) == [10_000, 11_000, 12_000, 13_000, 14_000, 14_750])
        #expect(thinned.points.last == points.last, "the newest sample is always kept")
        #expect(series.thinned(spacingMillis: 0) == series)
        #expect(series.since(14_000).points.map(\.requests) == [16, 17, 18, 19])
        #expect(series.since(99_000).points.isEmpty)
    }

    @Test func concurrentTotalsFeedingIsSafe() async {
        let history = DashboardHistory(totalsCapacity: 100_000)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in 0..<1000 {
                        history.recordTotals(
                            atMillis: UInt64(1_000_000 + index), requests: index, byRoute: ["r\(worker)": index], byReason: ["read": index])
                        _ = history.requestTotalsHistory().points.count
                    }
                }
            }
        }
        let series = history.requestTotalsHistory()
        #expect(series.points.count == 4000)
        #expect(Set(series.routes) == ["r0", "r1", "r2", "r3"])
        #expect(series.points.allSatisfy { $0.byRoute.count == 4 })
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

    /// Dropped from the front before the ring was ever full, then filled past
    /// its capacity: every state against a plain array doing the same.
    @Test func theRingBufferDrainedWhileFillingKeepsItsOrder() {
        for capacity in 1...4 {
            var ring = RingBuffer<Int>(capacity: capacity)
            var model: [Int] = []
            // Appends (a positive value) and drops of the oldest (0), mixed.
            let steps = [1, 2, 0, 3, 4, 5, 0, 0, 6, 7, 8, 9, 0, 0, 0, 0, 10, 0, 11, 12, 13, 0, 14]
            for step in steps {
                if step == 0 {
                    ring.removeFirst()
                    if !model.isEmpty { model.removeFirst() }
                } else {
                    ring.append(step)
                    model.append(step)
                    if model.count > capacity { model.removeFirst() }
                }
                #expect(ring.elements == model, "capacity \(capacity), after step \(step)")
                #expect(ring.first == model.first)
                #expect(ring.isEmpty == model.isEmpty)
            }
        }
    }
}
