import SwitchyardCore
import Testing

@Suite("PassiveHealth: max_fails, fail_timeout, success resets")
struct PassiveHealthTests {
    static let second: UInt64 = 1_000_000_000
    static let failTimeout: UInt64 = 10 * PassiveHealthTests.second
    static let start: UInt64 = 5_000 * PassiveHealthTests.second

    @Test("a new server is up with no failures")
    func fresh() {
        let health = PassiveHealth()
        #expect(health.isUp(now: 0))
        #expect(health.isUp(now: Self.start))
        #expect(health.consecutiveFailures == 0)
        #expect(health.downUntil == 0)
    }

    @Test("max_fails consecutive failures take the server out; fewer do not", arguments: [1, 2, 3, 5])
    func maxFails(maxFails: Int) {
        var health = PassiveHealth()
        for failure in 1..<maxFails {
            let now = Self.start + UInt64(failure)
            let tookOut1 = health.recordFailure(now: now, maxFails: maxFails, failTimeoutNanos: Self.failTimeout)
            #expect(!tookOut1, "failure \(failure)")
            #expect(health.isUp(now: now))
            #expect(health.consecutiveFailures == failure)
        }
        let now = Self.start + UInt64(maxFails)
        let tookOut2 = health.recordFailure(now: now, maxFails: maxFails, failTimeoutNanos: Self.failTimeout)
        #expect(tookOut2)
        #expect(!health.isUp(now: now))
        #expect(health.consecutiveFailures == maxFails)
        #expect(health.downUntil == now + Self.failTimeout)
    }

    @Test("out for exactly fail_timeout: down 1 ns before, up at the boundary")
    func failTimeoutBoundary() {
        var health = PassiveHealth()
        let tookOut1 = health.recordFailure(now: Self.start, maxFails: 1, failTimeoutNanos: Self.failTimeout)
        #expect(tookOut1)
        #expect(!health.isUp(now: Self.start))
        #expect(!health.isUp(now: Self.start + Self.failTimeout / 2))
        #expect(!health.isUp(now: Self.start + Self.failTimeout - 1))
        #expect(health.isUp(now: Self.start + Self.failTimeout))
        #expect(health.isUp(now: Self.start + Self.failTimeout + 1))
    }

    @Test("failures while out neither extend the timeout nor report a new take-out")
    func failuresWhileDown() {
        var health = PassiveHealth()
        let tookOut1 = health.recordFailure(now: Self.start, maxFails: 2, failTimeoutNanos: Self.failTimeout)
        #expect(tookOut1 == false)
        let tookOut2 = health.recordFailure(now: Self.start + 1, maxFails: 2, failTimeoutNanos: Self.failTimeout)
        #expect(tookOut2)
        let until = health.downUntil
        let tookOut3 = health.recordFailure(now: Self.start + 2, maxFails: 2, failTimeoutNanos: Self.failTimeout)
        #expect(!tookOut3)
        let tookOut4 = health.recordFailure(now: until - 1, maxFails: 2, failTimeoutNanos: Self.failTimeout)
        #expect(!tookOut4)
        #expect(health.downUntil == until)
        #expect(health.isUp(now: until))
    }

    @Test("after the timeout, one further failure takes it out again (nginx)")
    func retryAfterTimeout() {
        var health = PassiveHealth()
        for offset in 0..<3 {
            _ = health.recordFailure(now: Self.start + UInt64(offset), maxFails: 3, failTimeoutNanos: Self.failTimeout)
        }
        #expect(!health.isUp(now: Self.start + 2))
        let retry = Self.start + 2 + Self.failTimeout
        #expect(health.isUp(now: retry))
        let tookOut1 = health.recordFailure(now: retry, maxFails: 3, failTimeoutNanos: Self.failTimeout)
        #expect(tookOut1)
        #expect(!health.isUp(now: retry))
        #expect(health.downUntil == retry + Self.failTimeout)
    }

    @Test("a success resets the count: max_fails must be reached again from zero")
    func successResets() {
        var health = PassiveHealth()
        let tookOut1 = health.recordFailure(now: Self.start, maxFails: 3, failTimeoutNanos: Self.failTimeout)
        #expect(!tookOut1)
        let tookOut2 = health.recordFailure(now: Self.start + 1, maxFails: 3, failTimeoutNanos: Self.failTimeout)
        #expect(!tookOut2)
        let wasFailing1 = health.recordSuccess()
        #expect(wasFailing1, "it had been failing")
        #expect(health.consecutiveFailures == 0)
        let tookOut3 = health.recordFailure(now: Self.start + 2, maxFails: 3, failTimeoutNanos: Self.failTimeout)
        #expect(!tookOut3)
        let tookOut4 = health.recordFailure(now: Self.start + 3, maxFails: 3, failTimeoutNanos: Self.failTimeout)
        #expect(!tookOut4)
        #expect(health.isUp(now: Self.start + 3))
        let tookOut5 = health.recordFailure(now: Self.start + 4, maxFails: 3, failTimeoutNanos: Self.failTimeout)
        #expect(tookOut5)
    }

    @Test("a success while out brings the server back at once (e.g. the active check passed)")
    func successWhileDown() {
        var health = PassiveHealth()
        let tookOut1 = health.recordFailure(now: Self.start, maxFails: 1, failTimeoutNanos: Self.failTimeout)
        #expect(tookOut1)
        #expect(!health.isUp(now: Self.start + 1))
        let wasFailing1 = health.recordSuccess()
        #expect(wasFailing1)
        #expect(health.isUp(now: Self.start + 1))
        #expect(health.downUntil == 0)
        // And it takes max_fails failures again to go out.
        let tookOut2 = health.recordFailure(now: Self.start + 2, maxFails: 1, failTimeoutNanos: Self.failTimeout)
        #expect(tookOut2)
    }

    @Test("a success on a healthy server reports no change")
    func successWhenHealthy() {
        var health = PassiveHealth()
        let wasFailing1 = health.recordSuccess()
        #expect(!wasFailing1)
        let wasFailing2 = health.recordSuccess()
        #expect(!wasFailing2)
        #expect(health == PassiveHealth())
    }

    @Test("a zero fail_timeout never keeps a server out")
    func zeroTimeout() {
        var health = PassiveHealth()
        _ = health.recordFailure(now: Self.start, maxFails: 1, failTimeoutNanos: 0)
        #expect(health.isUp(now: Self.start))
    }
}
