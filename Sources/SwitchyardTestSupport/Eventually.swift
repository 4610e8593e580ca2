/// Thrown by ``eventually(_:timeout:pollEvery:fileID:line:isolation:_:)`` when the condition never held.
public struct EventuallyTimeoutError: Error, Sendable, CustomStringConvertible {
    public var conditionDescription: String?
    public var timeout: Duration
    public var attempts: Int
    /// The description of the error the condition last threw, if it threw.
    public var lastError: String?
    public var fileID: String
    public var line: Int

    public var description: String {
        var text = "condition "
        if let conditionDescription {
            text += "'\(conditionDescription)' "
        }
        text += "not met within \(timeout) (\(attempts) attempts) at \(fileID):\(line)"
        if let lastError {
            text += "; last error: \(lastError)"
        }
        return text
    }
}

/// Polls `condition` until it returns true, every `pollEvery`, for at most `timeout`; throws an
/// ``EventuallyTimeoutError`` naming the condition, the call site and the last error otherwise.
/// An error thrown by `condition` counts as "not yet" (and is reported if time runs out).
/// The condition is always evaluated at least once, and once more at the deadline.
/// Throws `CancellationError` if the task is cancelled.
public func eventually(
    _ description: String? = nil,
    timeout: Duration,
    pollEvery: Duration = .milliseconds(20),
    fileID: String = #fileID,
    line: Int = #line,
    isolation: isolated (any Actor)? = #isolation,
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var attempts = 0
    var lastError: (any Error)?
    while true {
        try Task.checkCancellation()
        attempts += 1
        let passedDeadline = clock.now >= deadline
        do {
            if try await condition() {
                return
            }
            lastError = nil
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            lastError = error
        }
        if passedDeadline {
            throw EventuallyTimeoutError(
                conditionDescription: description,
                timeout: timeout,
                attempts: attempts,
                lastError: lastError.map { String(describing: $0) },
                fileID: fileID,
                line: line
            )
        }
        let untilDeadline = clock.now.duration(to: deadline)
        try await Task.sleep(for: max(.zero, min(pollEvery, untilDeadline)))
    }
}
