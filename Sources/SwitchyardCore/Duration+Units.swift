extension Duration {
    /// The whole duration in nanoseconds (saturating at Int64's range).
    public var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// The whole duration in milliseconds, at least 0.
    public var totalMilliseconds: UInt64 {
        UInt64(max(0, self.totalNanoseconds / 1_000_000))
    }

    /// The whole duration in seconds, as a Double.
    public var totalSeconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
