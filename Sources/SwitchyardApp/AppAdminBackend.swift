import AdminServer
import HTTPProxy
import NIOCore
import LagMonitor
import SwitchyardCore

/// `/status`, drain/undrain and the dashboard's data, over the running app.
final class AppAdminBackend: AdminBackend {
    private let runtime: ProxyRuntime
    private let monitor: LagMonitor
    private let metrics: SwitchyardMetrics
    private let history: DashboardHistory
    private let observer: AppObserver
    private let started = ContinuousClock.now

    init(runtime: ProxyRuntime, monitor: LagMonitor, metrics: SwitchyardMetrics, history: DashboardHistory, observer: AppObserver) {
        self.runtime = runtime
        self.monitor = monitor
        self.metrics = metrics
        self.history = history
        self.observer = observer
    }

    func status() -> StatusDocument {
        let snapshot = self.runtime.snapshot
        let report = self.monitor.latest
        let uptime = ContinuousClock.now - self.started
        let deadline = NIODeadline.now().uptimeNanoseconds
        func servers(_ states: [UpstreamServerState]) -> [StatusDocument.Server] {
            states.map { StatusDocument.Server(address: $0.address.description, up: $0.isUp(now: deadline), active: $0.active, failures: $0.consecutiveFailures) }
        }
        let primary = StatusDocument.Primary(
            reachable: report?.primary.reachable ?? false, inRecovery: report?.primary.inRecovery,
            currentLSN: report?.primary.currentLSN, servers: servers(snapshot.primaryServers))
        let board = self.runtime.replicaBoard
        let replicas = snapshot.configuration.replicas.enumerated().map { index, replica -> StatusDocument.Replica in
            let status = report?.replicas.first { $0.name == replica.name }
            let entry = board.entry(replica.name)
            return StatusDocument.Replica(
                name: replica.name, inRotation: entry.inRotation, cause: status?.cause, lagSeconds: status?.lagSeconds,
                lagBytes: status?.lagBytes, replayLSN: status?.replayLSN, servers: servers(snapshot.replicaServers[index]))
        }
        return StatusDocument(
            version: SwitchyardApp.version,
            uptimeSeconds: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18,
            primary: primary, replicas: replicas, totals: self.metrics.requestTotals())
    }

    func drain(replica: String) -> Bool {
        self.monitor.drain(replica)
    }

    func undrain(replica: String) -> Bool {
        self.monitor.undrain(replica)
    }

    var isShuttingDown: Bool {
        self.runtime.isDraining
    }

    func recentDecisions() -> [DecisionSummary] {
        self.observer.recentDecisions()
    }

    func lagHistory() -> [ReplicaLagSeries] {
        self.history.lagHistory()
    }

    func requestTotalsHistory() -> RequestTotalsSeries {
        self.history.requestTotalsHistory()
    }
}
