import SwitchyardCore
import Testing

@Suite("Rotation state machine (SPEC §6)")
struct RotationStateMachineTests {
    let limits = LagConfiguration(
        pollInterval: .milliseconds(500), maxLag: .seconds(5), maxLagBytes: 1000, readmitBelow: .seconds(2), readmitAfter: 3,
        queryTimeout: .seconds(1), unreachableAfter: 2)

    static func good(lag: Double = 0, bytes: UInt64 = 0) -> ReplicaObservation {
        ReplicaObservation(reachable: true, lagSeconds: lag, lagBytes: bytes)
    }

    @Test func aHealthyFirstPollStartsInRotation() {
        var machine = RotationStateMachine()
        #expect(machine.observe(Self.good(), limits: self.limits) == nil)
        #expect(machine.inRotation)
        #expect(machine.cause == nil)
    }

    @Test(arguments: [
        (ReplicaObservation.unreachable, RotationCause.unreachable),
        (ReplicaObservation(reachable: true, inRecovery: false), .promoted),
        (ReplicaObservation(reachable: true, receiverStatus: nil), .receiverDown),
        (ReplicaObservation(reachable: true, receiverStatus: "catchup"), .receiverDown),
        (ReplicaObservation(reachable: true, lagSeconds: 5.0), .lag),
        (ReplicaObservation(reachable: true, lagSeconds: 1, lagBytes: 1000), .lagBytes),
    ])
    func aBadFirstPollStartsOutWithItsCause(_ observation: ReplicaObservation, _ cause: RotationCause) {
        var machine = RotationStateMachine()
        #expect(machine.observe(observation, limits: self.limits) == .wentOut(cause))
        #expect(!machine.inRotation)
        #expect(machine.cause == cause)
    }

    @Test func lagAtTheThresholdTakesItOutJustBelowDoesNot() {
        var machine = RotationStateMachine()
        _ = machine.observe(Self.good(), limits: self.limits)
        #expect(machine.observe(Self.good(lag: 4.999), limits: self.limits) == nil)
        #expect(machine.inRotation)
        #expect(machine.observe(Self.good(lag: 5.0), limits: self.limits) == .wentOut(.lag))
        #expect(machine.observe(Self.good(lag: 7.0), limits: self.limits) == nil)
    }

    @Test func bytesCountOnlyWhenKnownAndLimited() {
        var machine = RotationStateMachine()
        _ = machine.observe(Self.good(), limits: self.limits)
        #expect(machine.observe(ReplicaObservation(reachable: true, lagSeconds: 0, lagBytes: nil), limits: self.limits) == nil)
        var unlimited = self.limits
        unlimited.maxLagBytes = 0
        #expect(machine.observe(Self.good(bytes: 1 << 40), limits: unlimited) == nil)
        #expect(machine.inRotation)
        #expect(machine.observe(Self.good(bytes: 999), limits: self.limits) == nil)
        #expect(machine.observe(Self.good(bytes: 1000), limits: self.limits) == .wentOut(.lagBytes))
    }

    @Test func readmissionNeedsReadmitAfterConsecutiveGoodPolls() {
        var machine = RotationStateMachine()
        _ = machine.observe(Self.good(), limits: self.limits)
        _ = machine.observe(Self.good(lag: 6), limits: self.limits)
        // Under max_lag but not under readmit_below: no progress.
        #expect(machine.observe(Self.good(lag: 3), limits: self.limits) == nil)
        #expect(machine.observe(Self.good(lag: 1), limits: self.limits) == nil)
        #expect(machine.observe(Self.good(lag: 1), limits: self.limits) == nil)
        // A bad poll in between resets the count.
        #expect(machine.observe(Self.good(lag: 2.5), limits: self.limits) == nil)
        #expect(machine.observe(Self.good(lag: 0), limits: self.limits) == nil)
        #expect(machine.observe(Self.good(lag: 0), limits: self.limits) == nil)
        #expect(!machine.inRotation)
        #expect(machine.observe(Self.good(lag: 0), limits: self.limits) == .cameBack)
        #expect(machine.inRotation)
        #expect(machine.cause == nil)
    }

    @Test func readmissionAlsoNeedsBytesUnderTheLimit() {
        var again = RotationStateMachine()
        _ = again.observe(Self.good(bytes: 5000), limits: self.limits)
        #expect(again.cause == .lagBytes)
        #expect(again.observe(Self.good(bytes: 500), limits: self.limits) == nil)
        #expect(again.observe(Self.good(bytes: 500), limits: self.limits) == nil)
        #expect(again.observe(Self.good(bytes: 500), limits: self.limits) == .cameBack)
    }

    @Test func unreachableNeedsUnreachableAfterConsecutiveFailures() {
        var machine = RotationStateMachine()
        _ = machine.observe(Self.good(), limits: self.limits)
        #expect(machine.observe(.unreachable, limits: self.limits) == nil)
        #expect(machine.inRotation)
        #expect(machine.observe(Self.good(), limits: self.limits) == nil)
        #expect(machine.observe(.unreachable, limits: self.limits) == nil)
        #expect(machine.observe(.unreachable, limits: self.limits) == .wentOut(.unreachable))
        #expect(machine.cause == .unreachable)
    }

    @Test func promotedAndReceiverDownAreImmediate() {
        var machine = RotationStateMachine()
        _ = machine.observe(Self.good(), limits: self.limits)
        #expect(machine.observe(ReplicaObservation(reachable: true, receiverStatus: nil, lagSeconds: 0, lagBytes: 0), limits: self.limits) == .wentOut(.receiverDown))
        var promoted = RotationStateMachine()
        _ = promoted.observe(Self.good(), limits: self.limits)
        #expect(promoted.observe(ReplicaObservation(reachable: true, inRecovery: false), limits: self.limits) == .wentOut(.promoted))
    }

    @Test func drainHoldsItOutAndUndrainReadmitsAtTheNextGoodPoll() {
        var machine = RotationStateMachine()
        _ = machine.observe(Self.good(), limits: self.limits)
        #expect(machine.drain() == .wentOut(.drained))
        #expect(machine.drain() == nil)
        for _ in 0..<5 {
            #expect(machine.observe(Self.good(), limits: self.limits) == nil)
        }
        #expect(!machine.inRotation)
        #expect(machine.cause == .drained)
        machine.undrain()
        #expect(machine.observe(Self.good(), limits: self.limits) == .cameBack)
        #expect(machine.inRotation)
    }

    @Test func undrainWaitsForAGoodPoll() {
        var machine = RotationStateMachine()
        _ = machine.observe(Self.good(), limits: self.limits)
        _ = machine.drain()
        machine.undrain()
        #expect(machine.observe(Self.good(lag: 3), limits: self.limits) == nil)
        #expect(!machine.inRotation)
        #expect(machine.observe(Self.good(lag: 0), limits: self.limits) == .cameBack)
    }
}

@Suite("Router-clock time lag (SPEC §6)")
struct PrimaryPositionHistoryTests {
    static let second: UInt64 = 1_000_000_000

    @Test func zeroWhenCaughtUpAndOnAnIdlePrimary() {
        var history = PrimaryPositionHistory()
        history.record(LSN(100), atNanos: 1 * Self.second)
        // The primary stays idle: the same position is not a new sample.
        history.record(LSN(100), atNanos: 20 * Self.second)
        #expect(history.samples.count == 1)
        #expect(history.lagSeconds(replayed: LSN(100), atNanos: 600 * Self.second) == 0)
        #expect(history.lagSeconds(replayed: LSN(150), atNanos: 600 * Self.second) == 0)
    }

    @Test func theAgeOfTheOldestUnreplayedSample() {
        var history = PrimaryPositionHistory()
        history.record(LSN(100), atNanos: 10 * Self.second)
        history.record(LSN(200), atNanos: 11 * Self.second)
        history.record(LSN(300), atNanos: 12 * Self.second)
        #expect(history.lagSeconds(replayed: LSN(250), atNanos: 15 * Self.second) == 3)
        #expect(history.lagSeconds(replayed: LSN(150), atNanos: 15 * Self.second) == 4)
        #expect(history.lagSeconds(replayed: LSN(99), atNanos: 15 * Self.second) == 5)
    }

    @Test func noJumpAfterAnIdlePeriod() {
        var history = PrimaryPositionHistory()
        history.record(LSN(100), atNanos: 0)
        // Ten idle minutes, then a write: the replica is behind by the new sample only.
        history.record(LSN(200), atNanos: 600 * Self.second)
        #expect(history.lagSeconds(replayed: LSN(100), atNanos: 600 * Self.second + Self.second / 2) == 0.5)
    }

    @Test func unknownWithoutSamplesAndBoundedCapacity() {
        var history = PrimaryPositionHistory(capacity: 3)
        #expect(history.lagSeconds(replayed: LSN(1), atNanos: 0) == nil)
        for i in 1...10 {
            history.record(LSN(UInt64(i) * 10), atNanos: UInt64(i) * Self.second)
        }
        #expect(history.samples.count == 3)
        #expect(history.lagSeconds(replayed: LSN(0), atNanos: 20 * Self.second) == 12)
    }

    @Test func pruningKeepsWhatAnyReplicaStillNeeds() {
        var history = PrimaryPositionHistory()
        for i in 1...5 {
            history.record(LSN(UInt64(i) * 10), atNanos: UInt64(i) * Self.second)
        }
        history.prune(keepingAfter: LSN(30))
        #expect(history.samples.map(\.position.value) == [40, 50])
        #expect(history.lagSeconds(replayed: LSN(30), atNanos: 10 * Self.second) == 6)
    }
}
