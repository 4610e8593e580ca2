/// Builds one structured log line field by field, as JSON or logfmt, without
/// going through dictionaries: the decision log is written once per request.
public struct LogLine: Sendable {
    public enum Format: Sendable {
        case json
        case logfmt
    }

    public let format: Format
    private var text: String
    private var fieldCount = 0

    public init(format: Format, capacity: Int = 320) {
        self.format = format
        self.text = ""
        self.text.reserveCapacity(capacity)
        if format == .json {
            self.text.append("{")
        }
    }

    public mutating func string(_ key: String, _ value: String) {
        self.key(key)
        switch self.format {
        case .json: LogLine.appendJSONString(value, to: &self.text)
        case .logfmt: LogLine.appendLogfmtValue(value, to: &self.text)
        }
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
        self.text.append(self.format == .json ? "null" : "")
    }

    public mutating func bool(_ key: String, _ value: Bool) {
        self.key(key)
        self.text.append(value ? "true" : "false")
    }

    public mutating func int(_ key: String, _ value: Int) {
        self.key(key)
        self.text.append(String(value))
    }

    public mutating func uint(_ key: String, _ value: UInt64) {
        self.key(key)
        self.text.append(String(value))
    }

    /// A number with at most `decimals` fraction digits (trailing zeros kept off).
    public mutating func double(_ key: String, _ value: Double, decimals: Int = 3) {
        self.key(key)
        LogLine.appendDecimal(value, decimals: decimals, to: &self.text)
    }

    /// A value already encoded for this format (e.g. a nested JSON object).
    public mutating func raw(_ key: String, _ encoded: String) {
        self.key(key)
        self.text.append(encoded)
    }

    public func finished() -> String {
        self.format == .json ? self.text + "}" : self.text
    }

    private mutating func key(_ key: String) {
        if self.fieldCount > 0 {
            self.text.append(self.format == .json ? "," : " ")
        }
        self.fieldCount += 1
        switch self.format {
        case .json:
            LogLine.appendJSONString(key, to: &self.text)
            self.text.append(":")
        case .logfmt:
            self.text.append(key)
            self.text.append("=")
        }
    }

    public static func appendDecimal(_ value: Double, decimals: Int, to text: inout String) {
        guard value.isFinite else {
            text.append("0")
            return
        }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9.0e15 else {
            text.append(String(value))
            return
        }
        let units = Int64(scaled)
        let whole = units / Int64(scale)
        var fraction = units % Int64(scale)
        if value < 0 && units != 0 { text.append("-") }
        text.append(String(whole))
        if fraction != 0 {
            var digits = decimals
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let fractionText = String(fraction)
            text.append(".")
            for _ in 0..<(digits - fractionText.count) { text.append("0") }
            text.append(fractionText)
        }
    }

    public static func appendJSONString(_ value: String, to text: inout String) {
        text.append("\"")
        var needsEscaping = false
        for byte in value.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            needsEscaping = true
            break
        }
        if !needsEscaping {
            text.append(value)
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": text.append("\\\"")
                case "\\": text.append("\\\\")
                case "\n": text.append("\\n")
                case "\r": text.append("\\r")
                case "\t": text.append("\\t")
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                default:
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text.append("\"")
    }

    public static func appendLogfmtValue(_ value: String, to text: inout String) {
        let needsQuotes =
            value.isEmpty
            || value.utf8.contains { $0 <= 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\\") }
        if needsQuotes {
            LogLine.appendJSONString(value, to: &text)
        } else {
            text.append(value)
        }
    }
}
