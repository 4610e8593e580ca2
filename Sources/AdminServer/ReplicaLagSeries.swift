/// One replica's recent lag, for the dashboard chart.
///
/// JSON: `{"name":"replica-a","max_lag":5,"readmit_below":2,"max_lag_bytes":67108864,
/// "points":[[1764000000000,0.012,1024,true],…]}` — each point is
/// `[unix_ms, lag_s|null, lag_bytes|null, in_rotation]`, oldest first (arrays, not
/// objects, to keep a 2-second refresh small).
public struct ReplicaLagSeries: Sendable, Hashable, Encodable {
    public struct Point: Sendable, Hashable, Encodable {
        /// Unix time in milliseconds.
        public var atMillis: UInt64
        public var lagSeconds: Double?
        public var lagBytes: UInt64?
        public var inRotation: Bool

        public init(atMillis: UInt64, lagSeconds: Double?, lagBytes: UInt64?, inRotation: Bool) {
            self.atMillis = atMillis
            self.lagSeconds = lagSeconds
            self.lagBytes = lagBytes
            self.inRotation = inRotation
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(self.atMillis)
            try container.encode(AdminJSON.finite(self.lagSeconds))
            try container.encode(self.lagBytes)
            try container.encode(self.inRotation)
        }
    }

    public var name: String
    public var points: [Point]
    public var thresholds: LagThresholds

    public init(name: String, points: [Point], thresholds: LagThresholds) {
        self.name = name
        self.points = points
        self.thresholds = thresholds
    }

    enum CodingKeys: String, CodingKey {
        case name
        case maxLag = "max_lag"
        case readmitBelow = "readmit_below"
        case maxLagBytes = "max_lag_bytes"
        case points
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(AdminJSON.finite(self.thresholds.maxLagSeconds), forKey: .maxLag)
        try container.encode(AdminJSON.finite(self.thresholds.readmitBelowSeconds), forKey: .readmitBelow)
        try container.encode(self.thresholds.maxLagBytes, forKey: .maxLagBytes)
        try container.encode(self.points, forKey: .points)
    }

    /// The points at or after `startMillis`.
    public func since(_ startMillis: UInt64) -> ReplicaLagSeries {
        var copy = self
        if let first = self.points.firstIndex(where: { $0.atMillis >= startMillis }) {
            copy.points = Array(self.points[first...])
        } else {
            copy.points = []
        }
        return copy
    }
}
