/// Builds one structured log line field by field, as JSON or logfmt, straight
/// into UTF-8 bytes: the decision log is written once per request, so the line
/// is built without dictionaries, string interpolation or intermediate Strings.
public struct LogLine: Sendable {
    public enum Format: Sendable {
        case json
        case logfmt
    }

    public let format: Format
    /// The line so far, UTF-8 (JSON: without the closing brace).
    public private(set) var bytes: [UInt8]
    private var fieldCount = 0

    public init(format: Format, capacity: Int = 320) {
        self.init(format: format, reusing: [])
        self.bytes.reserveCapacity(capacity)
    }

    /// A line built in `storage`, emptied first: a caller that writes a line
    /// per request hands back the last line's array and allocates nothing.
    public init(format: Format, reusing storage: consuming [UInt8]) {
        self.format = format
        self.bytes = storage
        self.bytes.removeAll(keepingCapacity: true)
        if format == .json {
            self.bytes.append(UInt8(ascii: "{"))
        }
    }

    public mutating func string(_ key: String, _ value: String) {
        self.key(key)
        switch self.format {
        case .json: LogLine.appendJSONString(value, to: &self.bytes)
        case .logfmt: LogLine.appendLogfmtValue(value, to: &self.bytes)
        }
    }

    /// A value known to need no escaping in either format (ASCII letters, digits, `-_.:/`).
    public mutating func plain(_ key: String, _ value: StaticString) {
        self.key(key)
        if self.format == .json { self.bytes.append(UInt8(ascii: "\"")) }
        value.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
        if self.format == .json { self.bytes.append(UInt8(ascii: "\"")) }
    }

    public mutating func optionalString(_ key: String, _ value: String?) {
        if let value {
            self.string(key, value)
        } else {
            self.null(key)
        }
    }

    public mutating func null(_ key: String) {
        self.key(key)
        if self.format == .json { self.append("null") }
    }

    public mutating func bool(_ key: String, _ value: Bool) {
        self.key(key)
        self.append(value ? "true" : "false")
    }

    public mutating func int(_ key: String, _ value: Int) {
        self.key(key)
        LogLine.appendInteger(value, to: &self.bytes)
    }

    public mutating func uint(_ key: String, _ value: UInt64) {
        self.key(key)
        LogLine.appendDigits(value, minimumWidth: 1, to: &self.bytes)
    }

    /// A number with at most `decimals` fraction digits (trailing zeros kept off).
    public mutating func double(_ key: String, _ value: Double, decimals: Int = 3) {
        self.key(key)
        LogLine.appendDecimal(value, decimals: decimals, to: &self.bytes)
    }

    /// An ISO 8601 UTC timestamp with milliseconds, `2026-11-24T12:00:00.123Z`, as a string value.
    public mutating func timestamp(_ key: String, millis: UInt64) {
        self.key(key)
        if self.format == .json { self.bytes.append(UInt8(ascii: "\"")) }
        WallClock.appendISO8601(millis: millis, to: &self.bytes)
        if self.format == .json { self.bytes.append(UInt8(ascii: "\"")) }
    }

    /// A value already encoded for this format (e.g. a nested JSON object).
    public mutating func raw(_ key: String, _ encoded: String) {
        self.key(key)
        self.bytes.append(contentsOf: encoded.utf8)
    }

    /// The finished line's bytes (no trailing newline).
    public func finishedBytes() -> [UInt8] {
        guard self.format == .json else { return self.bytes }
        var bytes = self.bytes
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// Closes the line in place (JSON: the closing brace) and hands the bytes over.
    public consuming func takeBytes() -> [UInt8] {
        if self.format == .json {
            self.bytes.append(UInt8(ascii: "}"))
        }
        return self.bytes
    }

    public func finished() -> String {
        String(decoding: self.finishedBytes(), as: UTF8.self)
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    private mutating func key(_ key: String) {
        if self.fieldCount > 0 {
            self.bytes.append(self.format == .json ? UInt8(ascii: ",") : UInt8(ascii: " "))
        }
        self.fieldCount += 1
        switch self.format {
        case .json:
            LogLine.appendJSONString(key, to: &self.bytes)
            self.bytes.append(UInt8(ascii: ":"))
        case .logfmt:
            self.bytes.append(contentsOf: key.utf8)
            self.bytes.append(UInt8(ascii: "="))
        }
    }

    /// Decimal digits of `value`, zero-padded to `minimumWidth`.
    public static func appendDigits(_ value: UInt64, minimumWidth: Int, to bytes: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                count += 1
            } while rest > 0 && count < 20
            while count < minimumWidth && count < 20 {
                buffer[count] = UInt8(ascii: "0")
                count += 1
            }
            var index = count
            while index > 0 {
                index -= 1
                bytes.append(buffer[index])
            }
        }
    }

    public static func appendInteger(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        LogLine.appendDigits(value.magnitude.toUInt64, minimumWidth: 1, to: &bytes)
    }

    public static func appendDecimal(_ value: Double, decimals: Int, to bytes: inout [UInt8]) {
        guard value.isFinite else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        let decimals = min(max(decimals, 0), 9)
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * Double(scale)).rounded()
        guard scaled < 9.0e15 else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        let units = UInt64(scaled)
        let whole = units / scale
        var fraction = units % scale
        if value < 0 && units != 0 { bytes.append(UInt8(ascii: "-")) }
        LogLine.appendDigits(whole, minimumWidth: 1, to: &bytes)
        if fraction != 0 {
            var digits = decimals
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            bytes.append(UInt8(ascii: "."))
            LogLine.appendDigits(fraction, minimumWidth: digits, to: &bytes)
        }
    }

    public static func appendJSONString(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Almost every value needs no escape: copied whole.
        if LogLine.appendVerbatim(value, to: &bytes, unless: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10 }
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "u"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(hex(byte >> 4))
                bytes.append(hex(byte & 0x0F))
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public static func appendLogfmtValue(_ value: String, to bytes: inout [UInt8]) {
        let plain =
            !value.isEmpty
            && LogLine.appendVerbatim(
                value, to: &bytes,
                unless: { $0 <= 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\\") })
        if !plain {
            // Needs quotes (or is empty): quoting is always correct.
            LogLine.appendJSONString(value, to: &bytes)
        }
    }

    /// Appends `value`'s bytes as they are when none of them is `special`;
    /// false, with nothing appended, otherwise (or when the string has no
    /// contiguous UTF-8, which a native string always has). A check over the
    /// contiguous bytes: through `String.UTF8View`'s iterator it cost ~2 % of
    /// the request path.
    private static func appendVerbatim(_ value: String, to bytes: inout [UInt8], unless special: (UInt8) -> Bool) -> Bool {
        value.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            if utf8.contains(where: special) {
                return false
            }
            bytes.append(contentsOf: utf8)
            return true
        } ?? false
    }
}

extension UInt {
    fileprivate var toUInt64: UInt64 { UInt64(self) }
}
