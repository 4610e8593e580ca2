// Swift Testing is found when tests are built; a plain `swift build -c release`
// (README's "Try it by hand") builds this library too, without it.
#if canImport(Testing)
import Testing

/// Marks tests that load the whole machine: PostgreSQL clusters (initdb,
/// base backups, WAL streaming), load generators with hundreds of clients,
/// child processes, transfers of many megabytes. They run one at a time,
/// whatever `swift test`'s parallelism; light tests still run beside them.
///
/// On a 2-core machine two of them side by side stretch each other's
/// latencies past the deadlines they assert (a 2 s response timeout became
/// 504s; a replica's lag did not show within its bound), and they stretch
/// those of the light tests next to them too. Serial runs (`swift test
/// --no-parallel`, what `deploy/test.sh` does) are unaffected: the gate is
/// then never contended.
///
/// Applied to a suite, it applies to each of its tests (not to the suite as
/// a whole: a waiting suite holds nothing).
public struct HeavyLoadTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else {
            // The suite's own scope: its tests take the gate one by one.
            try await function()
            return
        }
        try await HeavyLoadGate.shared.run(function)
    }
}

extension Trait where Self == HeavyLoadTrait {
    /// Runs the test alone among the heavy ones (see ``HeavyLoadTrait``).
    public static var heavyLoad: Self { Self() }
}

/// A FIFO mutex for async code: one holder at a time, the waiters in the order they came.
actor HeavyLoadGate {
    static let shared = HeavyLoadGate()

    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` while holding the gate (outside the actor: the actor is not busy meanwhile).
    nonisolated func run(_ body: @Sendable () async throws -> Void) async throws {
        await self.acquire()
        let outcome: Result<Void, any Error>
        do {
            try await body()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await self.handOver()
        try outcome.get()
    }

    private func acquire() async {
        guard self.held else {
            self.held = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    /// Hands the gate to the longest waiter, or frees it.
    private func handOver() {
        if self.waiters.isEmpty {
            self.held = false
        } else {
            self.waiters.removeFirst().resume()
        }
    }
}
#endif
