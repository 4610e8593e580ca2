/// What the admin listener needs from the running router. SwitchyardApp
/// implements it over the proxy runtime, the lag monitor and a
/// ``DashboardHistory``.
///
/// Every method is called on an event loop of the admin listener (never on the
/// request path's loops unless the app shares them) and must not block: read
/// snapshots, take short locks, return.
public protocol AdminBackend: Sendable {
    /// The `/status` document (SPEC §7), built now.
    func status() -> StatusDocument

    /// Takes `replica` out of rotation by hand (`cause: drained`).
    /// Returns false when no replica has that name (the listener answers 404).
    func drain(replica: String) -> Bool

    /// Lets `replica` back in at its next good poll, without waiting `readmit_after`.
    /// Returns false when no replica has that name (the listener answers 404).
    func undrain(replica: String) -> Bool

    /// True once the process is draining for shutdown: `/healthz` answers 503.
    var isShuttingDown: Bool { get }

    /// The most recent routing decisions, oldest first (the dashboard shows the last ~20).
    func recentDecisions() -> [DecisionSummary]

    /// Per replica, in configuration order: its recent lag points and the thresholds to draw.
    func lagHistory() -> [ReplicaLagSeries]

    /// The request totals sampled once per lag round, oldest first (the dashboard's
    /// traffic chart and rates are drawn from their deltas).
    func requestTotalsHistory() -> RequestTotalsSeries
}
