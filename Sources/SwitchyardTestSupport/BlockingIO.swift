import Foundation

/// Runs blocking work (POSIX socket calls, file reads) on a fresh dedicated thread so that async
/// tests never park a thread of the Swift concurrency cooperative pool (only two on a 2-core machine).
///
/// A thread per call is deliberate: unlike a fixed-size pool, many concurrently blocked clients
/// (say twenty connections each waiting for a hung server) can never queue behind one another.
public enum BlockingIO {
    public static func run<Result: Sendable>(
        _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let thread = Thread {
                continuation.resume(with: Swift.Result { try body() })
            }
            thread.name = "switchyard-test-blocking-io"
            thread.start()
        }
    }
}
