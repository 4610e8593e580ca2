/// The routing decision for one request (SPEC §3).
public struct RouteDecision: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        /// The primary pool.
        case primary
        /// Any server of the replicas whose index is set (indexes into the configured replicas).
        case replicas(ReplicaSet)
        /// No replica and `on_no_replica: fail`: answer 503.
        case unavailable
    }

    public var target: Target
    public var reason: RouteReason
    /// True when the request counts as a write for pinning: routed to the
    /// primary as a write, or by a rule to the primary (SPEC §3 "The pin").
    public var setsPin: Bool

    public init(target: Target, reason: RouteReason, setsPin: Bool = false) {
        self.target = target
        self.reason = reason
        self.setsPin = setsPin
    }

    public var route: Route {
        switch self.target {
        case .primary, .unavailable: .primary
        case .replicas: .replica
        }
    }
}

/// A small bit set of replica indexes (up to 64 replicas), so a decision never allocates.
public struct ReplicaSet: Sendable, Hashable, Sequence {
    public private(set) var bits: UInt64

    public init(bits: UInt64 = 0) {
        self.bits = bits
    }

    public static let maximumCount = 64

    public var isEmpty: Bool { self.bits == 0 }

    public func contains(_ index: Int) -> Bool {
        index >= 0 && index < 64 && (self.bits >> UInt64(index)) & 1 == 1
    }

    public mutating func insert(_ index: Int) {
        guard index >= 0 && index < 64 else { return }
        self.bits |= 1 << UInt64(index)
    }

    public func makeIterator() -> Iterator {
        Iterator(bits: self.bits)
    }

    public struct Iterator: IteratorProtocol {
        var bits: UInt64

        public mutating func next() -> Int? {
            guard self.bits != 0 else { return nil }
            let index = self.bits.trailingZeroBitCount
            self.bits &= self.bits - 1
            return index
        }
    }
}
