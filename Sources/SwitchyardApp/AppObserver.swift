import AdminServer
import HTTPProxy
import SwitchyardCore

/// Feeds what the request path does into the metrics and the dashboard's history.
final class AppObserver: ProxyObserver {
    let metrics: SwitchyardMetrics
    let history: DashboardHistory

    init(metrics: SwitchyardMetrics, history: DashboardHistory) {
        self.metrics = metrics
        self.history = history
    }

    func requestFinished(_ record: consuming DecisionRecord) {
        let reason = record.reason.description
        self.metrics.requestFinished(
            route: record.route.rawValue, reason: reason, code: record.status, durationSeconds: record.durationSeconds)
        if record.pinSet {
            self.metrics.pinIssued()
        }
        self.history.record(
            decision: DecisionSummary(
                atMillis: record.timestampMillis, method: record.method, path: record.path, client: record.client,
                route: record.route.rawValue, reason: reason, replica: record.replica, server: record.server,
                pin: record.pin.logValue, lagSeconds: record.lagSeconds, status: record.status, attempts: record.attempts,
                durationSeconds: record.durationSeconds, pinSet: record.pinSet))
    }

    func upstreamRetried(server: UpstreamServerState) {
        self.metrics.upstreamRetried()
    }

    func serverHealthChanged(server: UpstreamServerState, up: Bool) {
        self.metrics.setServerUp(pool: server.pool, server: server.address.description, up: up)
    }
}
