import Synchronization

/// Keeps every line in memory (tests, `explain`).
public final class MemoryLogSink: LogLineSink {
    private let storage = Mutex<[String]>([])

    public init() {}

    public func write(line: String) {
        self.storage.withLock { $0.append(line) }
    }

    public var lines: [String] {
        self.storage.withLock { $0 }
    }
}
