import AdminServer
import HTTPProxy
import SwitchyardCore
import Synchronization

/// Feeds what the request path does into the metrics, and keeps the last
/// routing decisions for the dashboard.
///
/// Each event loop records through its own ``AppLoopObserver``: its own
/// metrics recorder and its own ring of recent decisions, so a request takes
/// no lock another loop takes. The dashboard merges the rings.
final class AppObserver: ProxyObserver {
    let metrics: SwitchyardMetrics
    /// Decisions kept per loop (the dashboard shows the last of them all).
    let decisionCapacity: Int
    /// Every loop's ring of recent decisions.
    private let rings = Mutex<[RecentItems<DecisionRecord>]>([])

    init(metrics: SwitchyardMetrics, decisionCapacity: Int = 50) {
        self.metrics = metrics
        self.decisionCapacity = decisionCapacity
    }

    func loopObserver() -> any LoopObserver {
        let observer = AppLoopObserver(
            metrics: self.metrics, recorder: self.metrics.makeRequestRecorder(), decisions: RecentItems(capacity: self.decisionCapacity))
        self.rings.withLock { $0.append(observer.decisions) }
        return observer
    }

    func upstreamRetried(server: UpstreamServerState) {
        self.metrics.upstreamRetried()
    }

    func serverHealthChanged(server: UpstreamServerState, up: Bool) {
        self.metrics.setServerUp(pool: server.pool, server: server.address.description, up: up)
    }

    /// The last `decisionCapacity` decisions of every loop together, oldest
    /// first, as the dashboard shows them (each loop's in its own order).
    func recentDecisions() -> [DecisionSummary] {
        let all = self.rings.withLock { $0 }.flatMap(\.elements)
        let ordered = all.enumerated().sorted { ($0.element.timestampMillis, $0.offset) < ($1.element.timestampMillis, $1.offset) }
        return ordered.suffix(self.decisionCapacity).map { Self.summary($0.element) }
    }

    static func summary(_ record: DecisionRecord) -> DecisionSummary {
        DecisionSummary(
            atMillis: record.timestampMillis, method: record.method, path: record.path, client: record.client,
            route: record.route.rawValue, reason: record.reason.description, replica: record.replica,
            server: record.server, pin: record.pin.logValue, lagSeconds: record.lagSeconds, status: record.status,
            attempts: record.attempts, durationSeconds: record.durationSeconds, pinSet: record.pinSet)
    }
}

/// One event loop's share of ``AppObserver``: used on that loop only.
final class AppLoopObserver: LoopObserver {
    let metrics: SwitchyardMetrics
    /// This loop's request series.
    let recorder: RequestRecorder
    /// This loop's last decisions (moved in: no string is copied per request);
    /// its lock is taken by this loop and by the dashboard's copy only.
    let decisions: RecentItems<DecisionRecord>

    init(metrics: SwitchyardMetrics, recorder: RequestRecorder, decisions: RecentItems<DecisionRecord>) {
        self.metrics = metrics
        self.recorder = recorder
        self.decisions = decisions
    }

    func requestFinished(_ record: consuming DecisionRecord) {
        self.recorder.record(
            route: record.route.rawValue, reason: record.reason.description, code: record.status,
            durationSeconds: record.durationSeconds)
        if record.pinSet {
            self.metrics.pinIssued()
        }
        self.decisions.record(record)
    }
}
