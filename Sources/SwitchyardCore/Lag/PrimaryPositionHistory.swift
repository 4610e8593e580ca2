/// The router's own samples of the primary's WAL position, for time lag on
/// the router's clock (SPEC §6): a replica's lag is 0 when it has replayed the
/// latest sample, else the age of the oldest sample it has not replayed.
/// 0 on an idle primary, no jump after idleness, no dependence on the
/// database servers' clocks.
///
/// Only samples where the position moved are kept, bounded in count.
public struct PrimaryPositionHistory: Sendable {
    public struct Sample: Sendable, Hashable {
        public var atNanos: UInt64
        public var position: LSN
    }

    public private(set) var samples: [Sample] = []
    public let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = max(2, capacity)
    }

    public var latest: LSN? { self.samples.last?.position }

    /// Records the primary's position as observed at `nanos` (monotonic).
    public mutating func record(_ position: LSN, atNanos nanos: UInt64) {
        if let last = self.samples.last, position <= last.position {
            return
        }
        if self.samples.count >= self.capacity {
            // Drop the oldest: a replica behind everything kept reads the oldest
            // kept age, which is still at least as large as the retention span.
            self.samples.removeFirst(self.samples.count - self.capacity + 1)
        }
        self.samples.append(Sample(atNanos: nanos, position: position))
    }

    /// Lag in seconds of a replica that has replayed `replayed`, at `nanos`; nil with no sample.
    public func lagSeconds(replayed: LSN, atNanos nanos: UInt64) -> Double? {
        guard let latest = self.samples.last else { return nil }
        if replayed >= latest.position {
            return 0
        }
        // Binary search for the oldest sample whose position is beyond `replayed`.
        var low = 0
        var high = self.samples.count - 1
        while low < high {
            let mid = (low + high) / 2
            if self.samples[mid].position > replayed {
                high = mid
            } else {
                low = mid + 1
            }
        }
        let at = self.samples[low].atNanos
        return nanos > at ? Double(nanos - at) / 1e9 : 0
    }

    /// Forgets samples older than `olderThanNanos` that every replica has replayed past.
    public mutating func prune(keepingAfter minimumReplayed: LSN?) {
        guard let minimumReplayed, self.samples.count > 1 else { return }
        var drop = 0
        while drop < self.samples.count - 1, self.samples[drop].position <= minimumReplayed {
            drop += 1
        }
        if drop > 0 {
            self.samples.removeFirst(drop)
        }
    }
}
