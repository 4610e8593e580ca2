import NIOCore
import SwitchyardLogging
import Testing

@testable import HTTPProxy

/// The decision log's timestamp: the real-time clock read once a second and
/// carried forward on the monotonic readings the request path already has.
@Suite("WallClockEstimate: wall-clock milliseconds from monotonic readings")
struct WallClockEstimateTests {
    @Test("the first reading is the real-time clock's")
    func firstReadingIsTheRealTimeClock() {
        var clock = WallClockEstimate()
        let before = WallClock.nowMillis()
        let estimate = clock.millis(uptimeNanos: NIODeadline.now().uptimeNanoseconds)
        let after = WallClock.nowMillis()
        #expect(estimate >= before && estimate <= after)
    }

    @Test("within the second, time moves with the monotonic readings only")
    func withinTheSecondItFollowsTheMonotonicClock() {
        var clock = WallClockEstimate()
        let start = NIODeadline.now().uptimeNanoseconds
        let first = clock.millis(uptimeNanos: start)
        // No clock is read for these: they are the first reading plus the monotonic distance.
        #expect(clock.millis(uptimeNanos: start + 250_000_000) == first + 250)
        #expect(clock.millis(uptimeNanos: start + 999_000_000) == first + 999)
    }

    @Test("after a second of monotonic time the real-time clock is read again")
    func afterASecondItRereads() {
        var clock = WallClockEstimate()
        // The first reading is dated five seconds back: carried forward without a re-read,
        // the next one (five seconds on, in monotonic time) would read five seconds ahead
        // of the real-time clock.
        let start = NIODeadline.now().uptimeNanoseconds
        _ = clock.millis(uptimeNanos: start - 5_000_000_000)
        let before = WallClock.nowMillis()
        let reread = clock.millis(uptimeNanos: start)
        let after = WallClock.nowMillis()
        #expect(reread >= before && reread <= after)
    }
}
