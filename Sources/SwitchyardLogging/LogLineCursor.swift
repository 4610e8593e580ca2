/// A line whose fields are written straight into memory the caller holds
/// (the decision log's: the event loop's scratch memory, or temporary memory
/// for a long line, appended to the loop's batch in one copy), in the same
/// format `LogLine` writes.
///
/// `LogLine` stages its bytes and moves them into an array; through this
/// cursor a piece costs a bounds check and a copy, nothing else. The caller
/// sizes the memory for the line (see `DecisionRecord`); a line that does not
/// fit is not cut short: `overflowed` says so, and the caller writes it again
/// into more memory.
public struct LogLineCursor: LogByteOutput {
    public let format: LogLine.Format
    // Visible to inlined code: `put` and `literal` are inlined into the
    // caller, where a literal's length is a constant (the decision line has
    // fifteen of them; a call each cost more than the copy).
    @usableFromInline let base: UnsafeMutableRawPointer?
    @usableFromInline let capacity: Int
    @usableFromInline var written = 0
    @usableFromInline var didOverflow = false

    /// Bytes written so far.
    public var count: Int { self.written }
    /// A piece did not fit: the bytes are incomplete.
    public var overflowed: Bool { self.didOverflow }

    /// Writes at the start of `memory`; JSON lines get their opening brace.
    public init(format: LogLine.Format, into memory: UnsafeMutableRawBufferPointer) {
        self.format = format
        self.base = memory.baseAddress
        self.capacity = memory.baseAddress == nil ? 0 : memory.count
        if format == .json {
            self.put(UInt8(ascii: "{"))
        }
    }

    /// What was written (valid while the memory is).
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: self.base, count: self.written)
    }

    @inlinable @inline(__always)
    public mutating func put(_ byte: UInt8) {
        guard self.written < self.capacity, let base = self.base else {
            self.didOverflow = true
            return
        }
        base.storeBytes(of: byte, toByteOffset: self.written, as: UInt8.self)
        self.written += 1
    }

    @inlinable @inline(__always)
    public mutating func put(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count <= self.capacity - self.written, let base = self.base else {
            self.didOverflow = true
            return
        }
        if let source = bytes.baseAddress {
            (base + self.written).copyMemory(from: source, byteCount: bytes.count)
        }
        self.written += bytes.count
    }

    // MARK: Values

    // A line whose keys are known when it is written (the decision log's)
    // puts each run of fixed text, separators, keys and constant values, in
    // one piece with `literal`, and the values between with the methods
    // below, which write exactly what `LogLine`'s keyed methods write after
    // the key. Such a line writes its own separators.

    /// Bytes as they are, already in this line's format.
    @inlinable @inline(__always)
    public mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { self.put(UnsafeRawBufferPointer($0)) }
    }

    /// A string value, escaped (JSON) or quoted when it needs it (logfmt).
    public mutating func stringValue(_ value: String) {
        LogLine.writeStringValue(value, format: self.format, to: &self)
    }

    /// No value: `null` in JSON, nothing in logfmt (`key=`).
    public mutating func nullValue() {
        LogLine.writeNullValue(format: self.format, to: &self)
    }

    public mutating func intValue(_ value: Int) {
        LogLine.writeInteger(value, to: &self)
    }

    /// A number with at most `decimals` fraction digits (trailing zeros kept off).
    public mutating func decimalValue(_ value: Double, decimals: Int = 3) {
        LogLine.writeDecimal(value, decimals: decimals, to: &self)
    }

    /// An ISO 8601 UTC timestamp with milliseconds, quoted in JSON; the date
    /// and time are computed once a second through `cache`.
    public mutating func timestampValue(millis: UInt64, cache: inout TimestampCache) {
        LogLine.writeTimestampValue(millis: millis, cache: &cache, format: self.format, to: &self)
    }

    /// Closes the line (JSON: the closing brace).
    public mutating func finish() {
        if self.format == .json {
            self.put(UInt8(ascii: "}"))
        }
    }
}
