import Synchronization

/// The dashboard's memory, so the app does not have to write one: per
/// replica, the lag of each poll round for the last ~10 minutes, and the request
/// totals of each poll round over the same window. Thread-safe; every call
/// takes one short lock. (The last routing decisions are kept by the caller,
/// in a ``RecentItems`` of whatever form its request path has.)
///
/// Feed it from the lag monitor's round callback
/// (`record(replica:atMillis:lagSeconds:lagBytes:inRotation:)` per replica and
/// `recordTotals(atMillis:requests:byRoute:byReason:)` once per round); answer
/// ``AdminBackend``'s `lagHistory()` and `requestTotalsHistory()` from it.
public final class DashboardHistory: Sendable {
    private struct State {
        var thresholds: LagThresholds
        /// Replica names in first-seen (configuration) order.
        var order: [String] = []
        var lag: [String: RingBuffer<ReplicaLagSeries.Point>] = [:]
        /// Request totals per round; each point's counts follow `routes` / `reasons`
        /// as they were when it was recorded (names are only ever added).
        var totals: RingBuffer<RequestTotalsSeries.Point>
        var routes = NameTable()
        var reasons = NameTable()
    }

    /// Names in first-seen order, and each one's position.
    private struct NameTable {
        var names: [String] = []
        var index: [String: Int] = [:]

        /// The counts in table order (names new to the table are appended, sorted among themselves).
        mutating func counts(_ byName: [String: Int]) -> [Int] {
            for name in byName.keys.sorted() where self.index[name] == nil {
                self.index[name] = self.names.count
                self.names.append(name)
            }
            var counts = Array(repeating: 0, count: self.names.count)
            for (name, count) in byName {
                if let position = self.index[name] {
                    counts[position] = count
                }
            }
            return counts
        }
    }

    /// How far back lag points are kept, in milliseconds.
    public let windowMillis: UInt64
    /// Most lag points kept per replica (bounds memory whatever the poll interval).
    public let pointsPerReplica: Int
    /// Most request-totals samples kept (bounds memory whatever the poll interval).
    public let totalsCapacity: Int
    private let state: Mutex<State>

    /// - Parameters:
    ///   - window: how far back lag points are kept (default 10 minutes).
    ///   - pointsPerReplica: a cap on points per replica (default 2400: 10 minutes at 250 ms polls).
    ///   - totalsCapacity: a cap on request-totals samples (default 2400, likewise).
    ///   - thresholds: the lag limits the chart draws (replace with ``setThresholds(_:)`` on reload).
    public init(
        window: Duration = .seconds(600),
        pointsPerReplica: Int = 2400,
        totalsCapacity: Int = 2400,
        thresholds: LagThresholds = .defaults
    ) {
        self.windowMillis = AdminServer.millis(window)
        self.pointsPerReplica = max(1, pointsPerReplica)
        self.totalsCapacity = max(1, totalsCapacity)
        self.state = Mutex(
            State(
                thresholds: thresholds,
                totals: RingBuffer(capacity: max(1, totalsCapacity))))
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

    /// Records the request totals (cumulative since start, as
    /// ``SwitchyardMetrics/requestTotals()`` gives them) at one poll round. Samples
    /// older than the window (measured from this sample's time) are dropped.
    public func recordTotals(atMillis: UInt64, requests: Int, byRoute: [String: Int], byReason: [String: Int]) {
        let windowMillis = self.windowMillis
        self.state.withLock { state in
            let point = RequestTotalsSeries.Point(
                atMillis: atMillis, requests: requests, byRoute: state.routes.counts(byRoute),
                byReason: state.reasons.counts(byReason))
            state.totals.append(point)
            if atMillis > windowMillis {
                let oldest = atMillis - windowMillis
                state.totals.removeFirst { $0.atMillis < oldest }
            }
        }
    }

    /// The same, from a ``StatusDocument/Totals``.
    public func recordTotals(atMillis: UInt64, _ totals: StatusDocument.Totals) {
        self.recordTotals(atMillis: atMillis, requests: totals.requests, byRoute: totals.byRoute, byReason: totals.byReason)
    }

    /// The kept request-totals samples, oldest first, each with a count for every
    /// route and reason seen so far (0 before a name's first request).
    public func requestTotalsHistory() -> RequestTotalsSeries {
        let (routes, reasons, recorded) = self.state.withLock { state in
            (state.routes.names, state.reasons.names, state.totals.elements)
        }
        let points = recorded.map { point in
            var padded = point
            padded.byRoute += Array(repeating: 0, count: max(0, routes.count - point.byRoute.count))
            padded.byReason += Array(repeating: 0, count: max(0, reasons.count - point.byReason.count))
            return padded
        }
        return RequestTotalsSeries(routes: routes, reasons: reasons, points: points)
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
}
