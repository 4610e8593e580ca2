#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Something that takes whole log lines.
public protocol LogLineSink: Sendable {
    func write(line: String)
    /// One line as UTF-8 bytes, without the newline (no String is built).
    func write(bytes: [UInt8])
    /// Several lines as UTF-8 bytes, each ending in a newline (the request
    /// path's form: an event loop hands over its decision lines once per turn).
    func write(batch: [UInt8])
}

extension LogLineSink {
    public func write(bytes: [UInt8]) {
        self.write(line: String(decoding: bytes, as: UTF8.self))
    }

    /// Line by line through `write(bytes:)`.
    public func write(batch: [UInt8]) {
        var start = 0
        for index in batch.indices where batch[index] == UInt8(ascii: "\n") {
            self.write(bytes: Array(batch[start..<index]))
            start = index + 1
        }
        if start < batch.count {
            self.write(bytes: Array(batch[start...]))
        }
    }
}

/// Where log lines go in production: a buffer drained by one writer thread, so an event
/// loop that logs never blocks on stdout. Lines are written whole, in order.
/// When the buffer is over `maximumPendingBytes` (stdout stuck), new lines are
/// dropped and counted rather than blocking the request path.
///
/// The writer is not woken per line (a wake-up per request costs a context
/// switch and a futex call each): it drains every `flushInterval`, or at once
/// when `batchBytes` are pending. A line therefore reaches stdout within
/// `flushInterval` (10 ms by default). The batch (256 KiB) is larger than
/// what 10 ms of decision lines add up to at ~55,000 small requests/s
/// (~150 KiB), so at that rate the writer wakes 100 times a second on its own
/// clock; with 64 KiB it was switched in ~430 times a second (counted from
/// /proc), each wake-up a futex call on the event loop and two context
/// switches on a busy CPU.
public final class StandardOutputSink: LogLineSink {
    private struct State {
        var pending: [UInt8] = []
        var dropped: Int = 0
        /// The writer holds a chunk it has not finished writing.
        var writing = false
    }

    private let state = Mutex(State())
    private let fileDescriptor: Int32
    private let maximumPendingBytes: Int
    private let batchBytes: Int
    private let flushIntervalMillis: Int
    private let wakeup: WriterWakeup

    /// The process-wide sink on stdout.
    public static let shared = StandardOutputSink(fileDescriptor: 1)

    public init(fileDescriptor: Int32, maximumPendingBytes: Int = 8 * 1024 * 1024, batchBytes: Int = 256 * 1024, flushIntervalMillis: Int = 10) {
        self.fileDescriptor = fileDescriptor
        self.maximumPendingBytes = maximumPendingBytes
        self.batchBytes = batchBytes
        self.flushIntervalMillis = flushIntervalMillis
        self.wakeup = WriterWakeup()
        self.startWriterThread()
    }

    private func startWriterThread() {
        let box = Unmanaged.passRetained(SinkBox(self))
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        _ = pthread_create(
            &thread, &attributes,
            { argument in
                guard let argument else { return nil }
                let sink = Unmanaged<SinkBox>.fromOpaque(argument).takeRetainedValue().sink
                var spare: [UInt8] = []
                while true {
                    sink.drainOnce(spare: &spare)
                }
            }, box.toOpaque())
        pthread_attr_destroy(&attributes)
    }

    /// Appends one line (a newline is added).
    public func write(line: String) {
        var line = line
        line.withUTF8 { self.append($0) }
    }

    public func write(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { self.append($0) }
    }

    /// Whole lines, each ending in a newline: appended at once, or dropped
    /// (and counted) together when the writer is that far behind.
    public func write(batch: [UInt8]) {
        batch.withUnsafeBufferPointer { self.append($0, newline: false) }
    }

    /// `newline`: `bytes` is one line without its newline; otherwise whole lines.
    private func append(_ bytes: UnsafeBufferPointer<UInt8>, newline: Bool = true) {
        let wake: Bool = self.state.withLock { state in
            if state.pending.count + bytes.count > self.maximumPendingBytes {
                state.dropped += newline ? 1 : bytes.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
                return false
            }
            let before = state.pending.count
            state.pending.append(contentsOf: bytes)
            if newline {
                state.pending.append(UInt8(ascii: "\n"))
            }
            return before < self.batchBytes && state.pending.count >= self.batchBytes
        }
        if wake {
            self.wakeup.signal()
        }
    }

    /// Lines dropped because the writer could not keep up.
    public var droppedLines: Int {
        self.state.withLock { $0.dropped }
    }

    /// Blocks until everything written so far has reached the file descriptor.
    public func flush() {
        while true {
            let empty = self.state.withLock { $0.pending.isEmpty && !$0.writing }
            if empty { return }
            self.wakeup.signal()
            usleep(1000)
        }
    }

    /// Waits for lines, then writes everything pending. Two buffers take
    /// turns (`spare` is the writer's): the loggers append to one while the
    /// other is written, and neither is reallocated once grown.
    fileprivate func drainOnce(spare: inout [UInt8]) {
        self.wakeup.wait(timeoutMillis: self.flushIntervalMillis)
        while true {
            spare.removeAll(keepingCapacity: true)
            self.state.withLock { state in
                swap(&state.pending, &spare)
                state.writing = !spare.isEmpty
            }
            if spare.isEmpty { return }
            defer { self.state.withLock { $0.writing = false } }
            spare.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    guard let base = raw.baseAddress else { return }
                    let written = Glibc.write(self.fileDescriptor, base + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }
}

/// A counting semaphore on a pthread condition (the writer thread sleeps on it).
private final class WriterWakeup: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var signalled = false

    init() {
        pthread_mutex_init(&self.mutex, nil)
        pthread_cond_init(&self.condition, nil)
    }

    func signal() {
        pthread_mutex_lock(&self.mutex)
        self.signalled = true
        pthread_cond_signal(&self.condition)
        pthread_mutex_unlock(&self.mutex)
    }

    /// Returns when signalled or after `timeoutMillis`, whichever comes first.
    func wait(timeoutMillis: Int) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanos = Int(deadline.tv_nsec) + timeoutMillis * 1_000_000
        deadline.tv_sec += nanos / 1_000_000_000
        deadline.tv_nsec = nanos % 1_000_000_000
        pthread_mutex_lock(&self.mutex)
        while !self.signalled {
            if pthread_cond_timedwait(&self.condition, &self.mutex, &deadline) != 0 {
                break
            }
        }
        self.signalled = false
        pthread_mutex_unlock(&self.mutex)
    }
}

private final class SinkBox {
    let sink: StandardOutputSink
    init(_ sink: StandardOutputSink) { self.sink = sink }
}
