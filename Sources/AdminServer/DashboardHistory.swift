import Synchronization

/// The dashboard's memory, so the app does not have to write one: per
/// replica, the lag of each poll round for the last ~10 minutes, and the last
/// 50 routing decisions. Thread-safe; every call takes one short lock.
///
/// Feed it from the lag monitor's round callback
/// (`record(replica:atMillis:lagSeconds:lagBytes:inRotation:)` per replica) and
/// from the proxy observer (`record(decision:)`); answer ``AdminBackend``'s
/// `lagHistory()` and `recentDecisions()` from it.
public final class DashboardHistory: Sendable {
    private struct State {
        var thresholds: LagThresholds
        /// Replica names in first-seen (configuration) order.
        var order: [String] = []
        var lag: [String: RingBuffer<ReplicaLagSeries.Point>] = [:]
        var decisions: RingBuffer<DecisionSummary>
    }

    /// How far back lag points are kept, in milliseconds.
    public let windowMillis: UInt64
    /// Most lag points kept per replica (bounds memory whatever the poll interval).
    public let pointsPerReplica: Int
    /// Most decisions kept.
    public let decisionCapacity: Int
    private let state: Mutex<State>

    /// - Parameters:
    ///   - window: how far back lag points are kept (default 10 minutes).
    ///   - pointsPerReplica: a cap on points per replica (default 2400: 10 minutes at 250 ms polls).
    ///   - decisionCapacity: how many decisions are kept (default 50).
    ///   - thresholds: the lag limits the chart draws (replace with ``setThresholds(_:)`` on reload).
    public init(
        window: Duration = .seconds(600),
        pointsPerReplica: Int = 2400,
        decisionCapacity: Int = 50,
        thresholds: LagThresholds = .defaults
    ) {
        self.windowMillis = AdminServer.millis(window)
        self.pointsPerReplica = max(1, pointsPerReplica)
        self.decisionCapacity = max(1, decisionCapacity)
        self.state = Mutex(State(thresholds: thresholds, decisions: RingBuffer(capacity: max(1, decisionCapacity))))
    }

    public func setThresholds(_ thresholds: LagThresholds) {
        self.state.withLock { $0.thresholds = thresholds }
    }

    public var thresholds: LagThresholds {
        self.state.withLock { $0.thresholds }
    }

    /// Records one replica's figures from one poll round. Points older than the
    /// window (measured from this point's time) are dropped.
    public func record(replica: String, atMillis: UInt64, lagSeconds: Double?, lagBytes: UInt64?, inRotation: Bool) {
        let point = ReplicaLagSeries.Point(atMillis: atMillis, lagSeconds: lagSeconds, lagBytes: lagBytes, inRotation: inRotation)
        let windowMillis = self.windowMillis
        let capacity = self.pointsPerReplica
        self.state.withLock { state in
            var buffer: RingBuffer<ReplicaLagSeries.Point>
            if let existing = state.lag.removeValue(forKey: replica) {
                buffer = existing
            } else {
                buffer = RingBuffer(capacity: capacity)
                state.order.append(replica)
            }
            buffer.append(point)
            if atMillis > windowMillis {
                let oldest = atMillis - windowMillis
                buffer.removeFirst { $0.atMillis < oldest }
            }
            state.lag[replica] = buffer
        }
    }

    /// Records one routing decision (the oldest falls off past ``decisionCapacity``).
    public func record(decision: DecisionSummary) {
        self.state.withLock { $0.decisions.append(decision) }
    }

    /// Keeps only these replicas (after a reload removed some); order follows `names`
    /// for the ones already known.
    public func retain(replicas names: [String]) {
        self.state.withLock { state in
            let keep = Set(names)
            state.lag = state.lag.filter { keep.contains($0.key) }
            let known = Set(state.order)
            state.order = names.filter { known.contains($0) }
        }
    }

    /// Per replica in first-seen order, its points oldest first, with the current thresholds.
    public func lagHistory() -> [ReplicaLagSeries] {
        self.state.withLock { state in
            state.order.compactMap { name in
                guard let buffer = state.lag[name] else { return nil }
                return ReplicaLagSeries(name: name, points: buffer.elements, thresholds: state.thresholds)
            }
        }
    }

    /// The kept decisions, oldest first.
    public func recentDecisions() -> [DecisionSummary] {
        self.state.withLock { $0.decisions.elements }
    }
}
