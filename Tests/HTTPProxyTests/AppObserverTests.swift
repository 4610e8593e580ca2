import AdminServer
import HTTPProxy
import SwitchyardCore
import Testing

@testable import SwitchyardApp

/// Each event loop records its decisions in its own ring; the dashboard sees
/// them merged.
@Suite("AppObserver: one recorder and one ring per event loop")
struct AppObserverTests {
    private static func record(at millis: UInt64, path: String, pinSet: Bool = false) -> DecisionRecord {
        DecisionRecord.make(
            timestampMillis: millis, method: "GET", path: path, client: "10.0.0.7", route: .replica, reason: .read,
            replica: "replica-a", lagSeconds: 0, server: "127.0.0.1:8011", pin: .none, status: 200, attempts: 1,
            durationSeconds: 0.001, pinSet: pinSet)
    }

    @Test("the recent decisions of every loop come out in time order, the last ones kept")
    func recentDecisionsAreMerged() throws {
        let metrics = SwitchyardMetrics()
        let observer = AppObserver(metrics: metrics, decisionCapacity: 3)
        let first = observer.loopObserver()
        let second = observer.loopObserver()
        first.requestFinished(Self.record(at: 10, path: "/a"))
        second.requestFinished(Self.record(at: 11, path: "/b"))
        first.requestFinished(Self.record(at: 13, path: "/d"))
        second.requestFinished(Self.record(at: 12, path: "/c", pinSet: true))
        second.requestFinished(Self.record(at: 13, path: "/e"))
        #expect(observer.recentDecisions().map(\.path) == ["/c", "/d", "/e"])
        #expect(metrics.requestTotals().requests == 5)
        #expect(metrics.render().contains("switchyard_pins_issued_total 1"))
    }
}
