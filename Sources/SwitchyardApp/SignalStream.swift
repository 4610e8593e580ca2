#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// POSIX signals as an async sequence (the real trigger for reload and
/// shutdown; tests inject their own sequences instead).
public enum SignalStream {
    public static func make(_ signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let sources = signals.map { number -> any DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            }
            let holder = SourceHolder(sources)
            continuation.onTermination = { _ in holder.cancel() }
        }
    }

    private final class SourceHolder: @unchecked Sendable {
        private let sources: [any DispatchSourceSignal]
        init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
        func cancel() { self.sources.forEach { $0.cancel() } }
    }
}
