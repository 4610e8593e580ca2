/// The request counters over time, for the dashboard's traffic chart and rates:
/// the cumulative totals (``SwitchyardMetrics/requestTotals()``) sampled once per
/// lag round, so a freshly opened page can draw rates at once instead of waiting
/// for deltas between its own refreshes.
///
/// JSON: `{"routes":["primary","replica"],"reasons":["no-replica","read",…],
/// "points":[[1764000000000,18211,[2011,16200],[10,15990,…]],…]}` — each point is
/// `[unix_ms, requests, [count per route…], [count per reason…]]`, the counts in the
/// order of `routes` and `reasons`, oldest first (arrays, not objects, to keep a
/// 2-second refresh small). Counts are cumulative since the router started: a rate
/// is the difference of two points over their time apart.
public struct RequestTotalsSeries: Sendable, Hashable, Encodable {
    public struct Point: Sendable, Hashable, Encodable {
        /// Unix time in milliseconds.
        public var atMillis: UInt64
        /// Every request counted so far.
        public var requests: Int
        /// Counts in the order of the series' ``RequestTotalsSeries/routes``.
        public var byRoute: [Int]
        /// Counts in the order of the series' ``RequestTotalsSeries/reasons``.
        public var byReason: [Int]

        public init(atMillis: UInt64, requests: Int, byRoute: [Int], byReason: [Int]) {
            self.atMillis = atMillis
            self.requests = requests
            self.byRoute = byRoute
            self.byReason = byReason
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(self.atMillis)
            try container.encode(self.requests)
            try container.encode(self.byRoute)
            try container.encode(self.byReason)
        }
    }

    /// Route names (`primary`, `replica`) in first-seen order.
    public var routes: [String]
    /// Reason names (`read`, `write`, …, `rule:NAME`) in first-seen order.
    public var reasons: [String]
    /// Oldest first; every point has one count per route and per reason.
    public var points: [Point]

    public init(routes: [String], reasons: [String], points: [Point]) {
        self.routes = routes
        self.reasons = reasons
        self.points = points
    }

    public static let empty = RequestTotalsSeries(routes: [], reasons: [], points: [])

    /// One point's counts by route name.
    public func byRoute(_ point: Point) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: zip(self.routes, point.byRoute))
    }

    /// One point's counts by reason name.
    public func byReason(_ point: Point) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: zip(self.reasons, point.byReason))
    }

    /// The points at or after `startMillis`.
    public func since(_ startMillis: UInt64) -> RequestTotalsSeries {
        var copy = self
        if let first = self.points.firstIndex(where: { $0.atMillis >= startMillis }) {
            copy.points = Array(self.points[first...])
        } else {
            copy.points = []
        }
        return copy
    }

    /// At most one point per `spacingMillis` (the first of each stretch), and always the
    /// newest. The counts are cumulative, so a thinned series loses no requests: only
    /// the resolution of the rates drawn from it.
    public func thinned(spacingMillis: UInt64) -> RequestTotalsSeries {
        guard spacingMillis > 0, self.points.count > 2 else { return self }
        var kept: [Point] = []
        kept.reserveCapacity(self.points.count)
        for point in self.points.dropLast() {
            if let last = kept.last, point.atMillis >= last.atMillis, point.atMillis - last.atMillis < spacingMillis {
                continue
            }
            kept.append(point)
        }
        if let newest = self.points.last {
            kept.append(newest)
        }
        var copy = self
        copy.points = kept
        return copy
    }
}
