/// Rotation of one replica (SPEC §6), as a pure state machine: each poll or
/// operator event goes in, the new state and at most one transition come out.
///
/// - Out at once when promoted (not in recovery), when its WAL receiver is not
///   streaming, at or above `max_lag`, or at or above `max_lag_bytes` (when set
///   and the byte lag is known); out after `unreachable_after` consecutive
///   failed polls; out while drained by an operator.
/// - Back only after `readmit_after` consecutive good polls whose time lag is
///   under `readmit_below` and byte lag under `max_lag_bytes`; after an
///   undrain, at the next good poll.
/// - The very first poll decides the starting state with no hysteresis.
public struct RotationStateMachine: Sendable, Hashable {
    public enum Transition: Sendable, Hashable {
        case wentOut(RotationCause)
        case cameBack
    }

    public private(set) var inRotation: Bool
    public private(set) var cause: RotationCause?
    public private(set) var drained = false
    private var consecutiveFailures = 0
    private var consecutiveGood = 0
    private var polled = false
    private var skipHysteresis = false

    public init() {
        self.inRotation = true
        self.cause = nil
    }

    /// Feeds one poll result.
    public mutating func observe(_ observation: ReplicaObservation, limits: LagConfiguration) -> Transition? {
        let first = !self.polled
        self.polled = true
        let verdict = self.verdict(observation, limits: limits, first: first)
        if self.drained {
            self.consecutiveGood = 0
            return nil
        }
        switch verdict {
        case .out(let cause):
            self.consecutiveGood = 0
            if self.inRotation || self.cause != cause {
                let wasIn = self.inRotation
                self.inRotation = false
                self.cause = cause
                return wasIn || first ? .wentOut(cause) : nil
            }
            return nil
        case .stillFailing:
            self.consecutiveGood = 0
            return nil
        case .good(let readmissible):
            guard !self.inRotation else { return nil }
            if first || self.skipHysteresis {
                guard readmissible || first else { return nil }
                self.comeBack()
                return .cameBack
            }
            if readmissible {
                self.consecutiveGood += 1
            } else {
                self.consecutiveGood = 0
            }
            if self.consecutiveGood >= limits.readmitAfter {
                self.comeBack()
                return .cameBack
            }
            return nil
        }
    }

    public mutating func drain() -> Transition? {
        guard !self.drained else { return nil }
        self.drained = true
        let wasIn = self.inRotation
        self.inRotation = false
        self.cause = .drained
        self.consecutiveGood = 0
        return wasIn ? .wentOut(.drained) : nil
    }

    /// Ends a drain: the replica comes back at its next good poll.
    public mutating func undrain() {
        guard self.drained else { return }
        self.drained = false
        self.skipHysteresis = true
    }

    private mutating func comeBack() {
        self.inRotation = true
        self.cause = nil
        self.consecutiveGood = 0
        self.skipHysteresis = false
    }

    private enum Verdict {
        case out(RotationCause)
        case stillFailing
        /// Within limits; `readmissible` when also under the readmission thresholds.
        case good(readmissible: Bool)
    }

    private mutating func verdict(_ observation: ReplicaObservation, limits: LagConfiguration, first: Bool) -> Verdict {
        guard observation.reachable else {
            self.consecutiveFailures += 1
            if first || self.consecutiveFailures >= limits.unreachableAfter {
                return .out(.unreachable)
            }
            return self.inRotation ? .good(readmissible: false) : .stillFailing
        }
        self.consecutiveFailures = 0
        if !observation.inRecovery {
            return .out(.promoted)
        }
        if observation.receiverStatus != "streaming" {
            return .out(.receiverDown)
        }
        let maxLag = limits.maxLag.totalSeconds
        if let lag = observation.lagSeconds, lag >= maxLag {
            return .out(.lag)
        }
        if limits.maxLagBytes > 0, let bytes = observation.lagBytes, bytes >= limits.maxLagBytes {
            return .out(.lagBytes)
        }
        let underTime = (observation.lagSeconds ?? .infinity) < limits.readmitBelow.totalSeconds
        let underBytes = limits.maxLagBytes == 0 || (observation.lagBytes.map { $0 < limits.maxLagBytes } ?? true)
        return .good(readmissible: underTime && underBytes)
    }

}
