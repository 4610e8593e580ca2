/// Passive health of one app server (SPEC §4): `maxFails` consecutive
/// failures take it out for `failTimeout`; a success resets the count. When
/// the timeout has passed the server is tried again, and a single further
/// failure takes it out again (nginx's behaviour).
///
/// Time is passed in as monotonic nanoseconds.
public struct PassiveHealth: Sendable, Hashable {
    public private(set) var consecutiveFailures: Int
    public private(set) var downUntil: UInt64

    public init() {
        self.consecutiveFailures = 0
        self.downUntil = 0
    }

    public func isUp(now: UInt64) -> Bool {
        now >= self.downUntil
    }

    /// Records a failure; returns true when this failure took the server out.
    public mutating func recordFailure(now: UInt64, maxFails: Int, failTimeoutNanos: UInt64) -> Bool {
        self.consecutiveFailures += 1
        guard self.consecutiveFailures >= maxFails, self.isUp(now: now) else { return false }
        self.downUntil = now &+ failTimeoutNanos
        return true
    }

    /// Records a success; returns true when the server had been failing.
    public mutating func recordSuccess() -> Bool {
        defer {
            self.consecutiveFailures = 0
            self.downUntil = 0
        }
        return self.consecutiveFailures > 0
    }
}
