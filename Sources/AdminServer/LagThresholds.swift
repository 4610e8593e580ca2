import SwitchyardCore

/// The `lag:` limits a dashboard chart draws (SPEC §2).
public struct LagThresholds: Sendable, Hashable, Encodable {
    /// Out of rotation at or above this replay lag, in seconds.
    public var maxLagSeconds: Double
    /// Back in rotation once under this, in seconds.
    public var readmitBelowSeconds: Double
    /// Out at or above this many bytes behind; 0 = no byte limit.
    public var maxLagBytes: UInt64

    public init(maxLagSeconds: Double, readmitBelowSeconds: Double, maxLagBytes: UInt64) {
        self.maxLagSeconds = maxLagSeconds
        self.readmitBelowSeconds = readmitBelowSeconds
        self.maxLagBytes = maxLagBytes
    }

    /// The thresholds of a validated `lag:` section.
    public init(_ configuration: LagConfiguration) {
        self.init(
            maxLagSeconds: LagThresholds.seconds(configuration.maxLag),
            readmitBelowSeconds: LagThresholds.seconds(configuration.readmitBelow),
            maxLagBytes: configuration.maxLagBytes)
    }

    /// SPEC §2 defaults (5 s, 2 s, 64 MiB).
    public static let defaults = LagThresholds(LagConfiguration())

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    enum CodingKeys: String, CodingKey {
        case maxLagSeconds = "max_lag"
        case readmitBelowSeconds = "readmit_below"
        case maxLagBytes = "max_lag_bytes"
    }
}
