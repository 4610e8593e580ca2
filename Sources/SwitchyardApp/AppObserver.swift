import AdminServer
import HTTPProxy
import SwitchyardCore

/// Feeds what the request path does into the metrics, and keeps the last
/// routing decisions for the dashboard.
final class AppObserver: ProxyObserver {
    let metrics: SwitchyardMetrics
    /// The last decisions as the request path made them (moved in: no
    /// string is copied per request); summarized when the dashboard asks.
    let decisions: RecentItems<DecisionRecord>

    init(metrics: SwitchyardMetrics, decisionCapacity: Int = 50) {
        self.metrics = metrics
        self.decisions = RecentItems(capacity: decisionCapacity)
    }

    func requestFinished(_ record: consuming DecisionRecord) {
        self.metrics.requestFinished(
            route: record.route.rawValue, reason: record.reason.description, code: record.status,
            durationSeconds: record.durationSeconds)
        if record.pinSet {
            self.metrics.pinIssued()
        }
        self.decisions.record(record)
    }

    func upstreamRetried(server: UpstreamServerState) {
        self.metrics.upstreamRetried()
    }

    func serverHealthChanged(server: UpstreamServerState, up: Bool) {
        self.metrics.setServerUp(pool: server.pool, server: server.address.description, up: up)
    }

    /// The kept decisions, oldest first, as the dashboard shows them.
    func recentDecisions() -> [DecisionSummary] {
        self.decisions.elements.map(Self.summary)
    }

    static func summary(_ record: DecisionRecord) -> DecisionSummary {
        DecisionSummary(
            atMillis: record.timestampMillis, method: record.method, path: record.path, client: record.client,
            route: record.route.rawValue, reason: record.reason.description, replica: record.replica,
            server: record.server, pin: record.pin.logValue, lagSeconds: record.lagSeconds, status: record.status,
            attempts: record.attempts, durationSeconds: record.durationSeconds, pinSet: record.pinSet)
    }
}
