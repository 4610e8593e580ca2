/// Where a line's bytes go: an array, a `LogLine` (which stages them) or a
/// `LogLineCursor` (memory the caller holds). The formatting helpers below
/// are written once, over this.
public protocol LogByteOutput {
    mutating func put(_ byte: UInt8)
    mutating func put(_ bytes: UnsafeRawBufferPointer)
}

extension Array: LogByteOutput where Element == UInt8 {
    public mutating func put(_ byte: UInt8) {
        self.append(byte)
    }

    public mutating func put(_ bytes: UnsafeRawBufferPointer) {
        self.append(contentsOf: bytes)
    }
}

extension LogByteOutput {
    mutating func put(_ text: StaticString) {
        text.withUTF8Buffer { self.put(UnsafeRawBufferPointer($0)) }
    }
}

/// Builds one structured log line field by field, as JSON or logfmt, straight
/// into UTF-8 bytes: the decision log is written once per request, so the line
/// is built without dictionaries, string interpolation or intermediate Strings.
///
/// Bytes are staged in a fixed buffer inside the value and moved to the array
/// 128 at a time: appending to an array byte by byte checks its uniqueness on
/// every byte, which was most of a decision line's cost.
public struct LogLine: Sendable, LogByteOutput {
    public enum Format: Sendable {
        case json
        case logfmt
    }

    /// 128 bytes not yet in `storage`, the first `count` of them written.
    private struct Staging: Sendable {
        static let capacity = 128
        var raw: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                  UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
    }

    public let format: Format
    private var storage: [UInt8]
    private var staging = Staging()
    private var fieldCount = 0

    /// The line so far, UTF-8 (JSON: without the closing brace).
    public var bytes: [UInt8] {
        var bytes = self.storage
        let count = self.staging.count
        withUnsafeBytes(of: self.staging.raw) { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        return bytes
    }

    public init(format: Format, capacity: Int = 512) {
        self.init(format: format, reusing: [], capacity: capacity)
    }

    /// A line built in `storage`, emptied first: a caller that writes a line
    /// per request hands back the last line's array (moved in, so that it is
    /// not shared) and allocates nothing.
    public init(format: Format, reusing storage: consuming [UInt8], capacity: Int = 512) {
        var storage = storage
        storage.removeAll(keepingCapacity: true)
        storage.reserveCapacity(capacity)
        self.init(format: format, appendingTo: storage)
    }

    /// A line built after what `storage` holds (lines batched in one array:
    /// `takeBytes` hands back all of it). Moved in, so that it is not shared.
    public init(format: Format, appendingTo storage: consuming [UInt8]) {
        self.format = format
        self.storage = consume storage
        if format == .json {
            self.put(UInt8(ascii: "{"))
        }
    }

    @inline(__always)
    public mutating func put(_ byte: UInt8) {
        if self.staging.count == Staging.capacity {
            self.moveStaged()
        }
        let index = self.staging.count
        withUnsafeMutableBytes(of: &self.staging.raw) { $0[index] = byte }
        self.staging.count = index + 1
    }

    @inline(__always)
    public mutating func put(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > Staging.capacity - self.staging.count {
            self.moveStaged()
            if bytes.count > Staging.capacity {
                self.storage.append(contentsOf: bytes)
                return
            }
        }
        let start = self.staging.count
        withUnsafeMutableBytes(of: &self.staging.raw) { raw in
            UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + bytes.count)]).copyMemory(from: bytes)
        }
        self.staging.count = start + bytes.count
    }

    /// Moves the staged bytes to `storage`.
    private mutating func moveStaged() {
        let count = self.staging.count
        guard count > 0 else { return }
        let raw = self.staging.raw
        withUnsafeBytes(of: raw) { self.storage.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        self.staging.count = 0
    }

    public mutating func string(_ key: String, _ value: String) {
        self.key(key)
        LogLine.writeStringValue(value, format: self.format, to: &self)
    }

    /// A value known to need no escaping in either format (ASCII letters, digits, `-_.:/`).
    public mutating func plain(_ key: String, _ value: StaticString) {
        self.key(key)
        if self.format == .json { self.put(UInt8(ascii: "\"")) }
        self.put(value)
        if self.format == .json { self.put(UInt8(ascii: "\"")) }
    }

    public mutating func optionalString(_ key: String, _ value: String?) {
        self.key(key)
        if let value {
            LogLine.writeStringValue(value, format: self.format, to: &self)
        } else {
            LogLine.writeNullValue(format: self.format, to: &self)
        }
    }

    public mutating func null(_ key: String) {
        self.key(key)
        LogLine.writeNullValue(format: self.format, to: &self)
    }

    public mutating func bool(_ key: String, _ value: Bool) {
        self.key(key)
        self.put(value ? "true" : "false")
    }

    public mutating func int(_ key: String, _ value: Int) {
        self.key(key)
        LogLine.writeInteger(value, to: &self)
    }

    public mutating func uint(_ key: String, _ value: UInt64) {
        self.key(key)
        LogLine.writeDigits(value, minimumWidth: 1, to: &self)
    }

    /// A number with at most `decimals` fraction digits (trailing zeros kept off).
    public mutating func double(_ key: String, _ value: Double, decimals: Int = 3) {
        self.key(key)
        LogLine.writeDecimal(value, decimals: decimals, to: &self)
    }

    /// An ISO 8601 UTC timestamp with milliseconds, `2026-11-24T12:00:00.123Z`, as a string value.
    public mutating func timestamp(_ key: String, millis: UInt64) {
        self.key(key)
        var cache = TimestampCache()
        LogLine.writeTimestampValue(millis: millis, cache: &cache, format: self.format, to: &self)
    }

    /// A value already encoded for this format (e.g. a nested JSON object).
    public mutating func raw(_ key: String, _ encoded: String) {
        self.key(key)
        var encoded = encoded
        encoded.withUTF8 { self.put(UnsafeRawBufferPointer($0)) }
    }

    /// The finished line's bytes (no trailing newline).
    public func finishedBytes() -> [UInt8] {
        var bytes = self.bytes
        if self.format == .json {
            bytes.append(UInt8(ascii: "}"))
        }
        return bytes
    }

    /// Closes the line in place (JSON: the closing brace) and hands the bytes
    /// over, moved out (a `consuming` method would be handed a copy of a
    /// `var` line, and its array would be shared, then copied to grow).
    public mutating func takeBytes() -> [UInt8] {
        if self.format == .json {
            self.put(UInt8(ascii: "}"))
        }
        self.moveStaged()
        var bytes: [UInt8] = []
        swap(&bytes, &self.storage)
        return bytes
    }

    public func finished() -> String {
        String(decoding: self.finishedBytes(), as: UTF8.self)
    }

    private mutating func key(_ key: String) {
        if self.fieldCount > 0 {
            self.put(self.format == .json ? UInt8(ascii: ",") : UInt8(ascii: " "))
        }
        self.fieldCount += 1
        switch self.format {
        case .json:
            LogLine.writeJSONString(key, to: &self)
            self.put(UInt8(ascii: ":"))
        case .logfmt:
            var key = key
            key.withUTF8 { self.put(UnsafeRawBufferPointer($0)) }
            self.put(UInt8(ascii: "="))
        }
    }

    // MARK: Formatting (public on arrays, for other lines built by hand)

    /// Decimal digits of `value`, zero-padded to `minimumWidth`.
    public static func appendDigits(_ value: UInt64, minimumWidth: Int, to bytes: inout [UInt8]) {
        LogLine.writeDigits(value, minimumWidth: minimumWidth, to: &bytes)
    }

    public static func appendInteger(_ value: Int, to bytes: inout [UInt8]) {
        LogLine.writeInteger(value, to: &bytes)
    }

    public static func appendDecimal(_ value: Double, decimals: Int, to bytes: inout [UInt8]) {
        LogLine.writeDecimal(value, decimals: decimals, to: &bytes)
    }

    public static func appendJSONString(_ value: String, to bytes: inout [UInt8]) {
        LogLine.writeJSONString(value, to: &bytes)
    }

    public static func appendLogfmtValue(_ value: String, to bytes: inout [UInt8]) {
        LogLine.writeLogfmtValue(value, to: &bytes)
    }

    // MARK: Formatting, over any output

    /// A string value in `format`: escaped (JSON), or quoted when it needs it (logfmt).
    static func writeStringValue(_ value: String, format: Format, to output: inout some LogByteOutput) {
        switch format {
        case .json: LogLine.writeJSONString(value, to: &output)
        case .logfmt: LogLine.writeLogfmtValue(value, to: &output)
        }
    }

    /// No value: `null` in JSON, nothing in logfmt (`key=`).
    static func writeNullValue(format: Format, to output: inout some LogByteOutput) {
        if format == .json { output.put("null") }
    }

    /// An ISO 8601 UTC timestamp with milliseconds, quoted in JSON.
    static func writeTimestampValue(millis: UInt64, cache: inout TimestampCache, format: Format, to output: inout some LogByteOutput) {
        if format == .json { output.put(UInt8(ascii: "\"")) }
        WallClock.writeISO8601(millis: millis, cache: &cache, to: &output)
        if format == .json { output.put(UInt8(ascii: "\"")) }
    }

    /// The digits are put together right to left in a fixed buffer and go out in one piece.
    static func writeDigits(_ value: UInt64, minimumWidth: Int, to output: inout some LogByteOutput) {
        if value < 10 && minimumWidth <= 1 {
            // One digit (a decision line's attempts, a lag or duration under a second): no buffer.
            output.put(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: UInt64.max has 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            let width = min(max(minimumWidth, 1), 20)
            var start = 24
            var rest = value
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            while 24 - start < width {
                start -= 1
                buffer[start] = UInt8(ascii: "0")
            }
            output.put(UnsafeRawBufferPointer(rebasing: buffer[start..<24]))
        }
    }

    static func writeInteger(_ value: Int, to output: inout some LogByteOutput) {
        if value < 0 {
            output.put(UInt8(ascii: "-"))
        }
        LogLine.writeDigits(value.magnitude.toUInt64, minimumWidth: 1, to: &output)
    }

    static func writeDecimal(_ value: Double, decimals: Int, to output: inout some LogByteOutput) {
        guard value.isFinite else {
            output.put(UInt8(ascii: "0"))
            return
        }
        let decimals = min(max(decimals, 0), 9)
        let scaled = (abs(value) * Double(Self.powerOfTen(decimals))).rounded()
        guard scaled < 9.0e15 else {
            var text = String(value)
            text.withUTF8 { output.put(UnsafeRawBufferPointer($0)) }
            return
        }
        let units = UInt64(scaled)
        let (whole, remainder) = Self.split(units, decimals: decimals)
        var fraction = remainder
        if value < 0 && units != 0 { output.put(UInt8(ascii: "-")) }
        LogLine.writeDigits(whole, minimumWidth: 1, to: &output)
        if fraction != 0 {
            var digits = decimals
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            output.put(UInt8(ascii: "."))
            LogLine.writeDigits(fraction, minimumWidth: digits, to: &output)
        }
    }

    /// 10 to the `exponent` (0...9).
    private static func powerOfTen(_ exponent: Int) -> UInt64 {
        var power: UInt64 = 1
        for _ in 0..<exponent { power &*= 10 }
        return power
    }

    /// `units` as whole units and the `decimals` digits after them. Each
    /// divisor is a constant: the compiler divides by a multiplication, where
    /// a division by a variable takes the CPU tens of cycles (twice a number,
    /// twice a decision line).
    private static func split(_ units: UInt64, decimals: Int) -> (quotient: UInt64, remainder: UInt64) {
        switch decimals {
        case 1: return units.quotientAndRemainder(dividingBy: 10)
        case 2: return units.quotientAndRemainder(dividingBy: 100)
        case 3: return units.quotientAndRemainder(dividingBy: 1000)
        case 4: return units.quotientAndRemainder(dividingBy: 10_000)
        case 5: return units.quotientAndRemainder(dividingBy: 100_000)
        case 6: return units.quotientAndRemainder(dividingBy: 1_000_000)
        case 7: return units.quotientAndRemainder(dividingBy: 10_000_000)
        case 8: return units.quotientAndRemainder(dividingBy: 100_000_000)
        case 9: return units.quotientAndRemainder(dividingBy: 1_000_000_000)
        default: return (units, 0)
        }
    }

    static func writeJSONString(_ value: String, to output: inout some LogByteOutput) {
        output.put(UInt8(ascii: "\""))
        // Almost every value needs no escape: copied whole.
        if LogLine.writeVerbatim(value, to: &output, logfmt: false) {
            output.put(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.put("\\\"")
            case UInt8(ascii: "\\"): output.put("\\\\")
            case UInt8(ascii: "\n"): output.put("\\n")
            case UInt8(ascii: "\r"): output.put("\\r")
            case UInt8(ascii: "\t"): output.put("\\t")
            case 0..<0x20:
                func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10 }
                output.put("\\u00")
                output.put(hex(byte >> 4))
                output.put(hex(byte & 0x0F))
            default:
                output.put(byte)
            }
        }
        output.put(UInt8(ascii: "\""))
    }

    static func writeLogfmtValue(_ value: String, to output: inout some LogByteOutput) {
        let plain =
            !value.isEmpty
            && LogLine.writeVerbatim(value, to: &output, logfmt: true)
        if !plain {
            // Needs quotes (or is empty): quoting is always correct.
            LogLine.writeJSONString(value, to: &output)
        }
    }

    /// Puts `value`'s bytes as they are when none of them needs escaping in
    /// a JSON string (control bytes, `"`, `\\`) or, for `logfmt`, quoting (also
    /// space and `=`); false, with nothing put, otherwise (or when the string
    /// has no contiguous UTF-8, which a native string always has).
    private static func writeVerbatim(_ value: String, to output: inout some LogByteOutput, logfmt: Bool) -> Bool {
        value.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            let bytes = UnsafeRawBufferPointer(utf8)
            guard !LogLine.needsEscape(bytes, logfmt: logfmt) else { return false }
            output.put(bytes)
            return true
        } ?? false
    }

    /// Whether some byte of `bytes` needs escaping (see `writeVerbatim`):
    /// eight bytes at a time, the last word overlapping the one before; a
    /// string shorter than a word byte by byte.
    static func needsEscape(_ bytes: UnsafeRawBufferPointer, logfmt: Bool) -> Bool {
        let lowest: UInt8 = logfmt ? 0x21 : 0x20
        guard bytes.count >= 8 else {
            for byte in bytes where byte < lowest || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (logfmt && byte == UInt8(ascii: "=")) {
                return true
            }
            return false
        }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        /// Nonzero exactly when some byte of `word` is below `limit` (at most
        /// 0x80: the borrow sets a byte's high bit, `& ~word` rules out bytes from 0x80).
        func below(_ limit: UInt8, _ word: UInt64) -> UInt64 { (word &- ones &* UInt64(limit)) & ~word & highs }
        /// Nonzero exactly when some byte of `word` is `byte` (a zero byte of the XOR).
        func has(_ byte: UInt8, _ word: UInt64) -> UInt64 { below(1, word ^ (ones &* UInt64(byte))) }
        var offset = 0
        while offset < bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: min(offset, bytes.count - 8), as: UInt64.self)
            var found = below(lowest, word) | has(UInt8(ascii: "\""), word) | has(UInt8(ascii: "\\"), word)
            if logfmt { found |= has(UInt8(ascii: "="), word) }
            if found != 0 { return true }
            offset += 8
        }
        return false
    }
}

extension UInt {
    fileprivate var toUInt64: UInt64 { UInt64(self) }
}
