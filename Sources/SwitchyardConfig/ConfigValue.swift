/// Parsers for the value syntaxes of the configuration file (SPEC §2).
/// Pure functions, also used by the command line.
public enum ConfigValue {
    /// Parses a duration: one or more `<number><unit>` groups, the units
    /// being `ms`, `s`, `m` and `h`, the number a decimal with an optional
    /// fraction of at most 9 digits: `250ms`, `2s`, `1m`, `1h`, `1.5s`, `1m30s`.
    /// A bare `0` is zero; any other number needs a unit.
    ///
    /// Whether zero is acceptable is the caller's decision. Returns nil for
    /// anything else (negative values, spaces, unknown units, more than
    /// about 292 years).
    public static func duration(_ text: String) -> Duration? {
        let bytes = Array(text.utf8)
        if bytes == [UInt8(ascii: "0")] {
            return .zero
        }
        guard !bytes.isEmpty else { return nil }
        var total: Int64 = 0
        var index = 0
        while index < bytes.count {
            var whole: Int64 = 0
            var wholeDigits = 0
            while index < bytes.count, let digit = ConfigValue.digit(bytes[index]) {
                let (shifted, overflow1) = whole.multipliedReportingOverflow(by: 10)
                let (added, overflow2) = shifted.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { return nil }
                whole = added
                wholeDigits += 1
                index += 1
            }
            guard wholeDigits > 0 else { return nil }
            var fraction: [Int64] = []
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                while index < bytes.count, let digit = ConfigValue.digit(bytes[index]) {
                    fraction.append(Int64(digit))
                    index += 1
                }
                guard !fraction.isEmpty, fraction.count <= 9 else { return nil }
            }
            guard let (unit, unitLength) = ConfigValue.durationUnit(bytes, at: index) else { return nil }
            index += unitLength
            let (wholeNanoseconds, overflow3) = whole.multipliedReportingOverflow(by: unit)
            guard !overflow3 else { return nil }
            var groupNanoseconds = wholeNanoseconds
            var scale: Int64 = 1
            for digit in fraction {
                scale *= 10
                // Exact for every unit down to the nanosecond; finer digits are dropped.
                let (sum, overflow4) = groupNanoseconds.addingReportingOverflow(digit * (unit / scale))
                guard !overflow4 else { return nil }
                groupNanoseconds = sum
            }
            let (sum, overflow5) = total.addingReportingOverflow(groupNanoseconds)
            guard !overflow5 else { return nil }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// Parses a size in bytes: a decimal integer with an optional unit
    /// `B`, `KiB` (1024), `MiB` (1024²) or `GiB` (1024³): `512`, `512B`,
    /// `16KiB`, `10MiB`, `1GiB`. Decimal units (`KB`, `MB`, `GB`) and
    /// nginx-style `k`/`m`/`g` are rejected on purpose: whether `10MB` means
    /// 10⁷ or 10·2²⁰ bytes is exactly the kind of doubt a config file must
    /// not leave. Returns nil for anything else or on overflow.
    public static func size(_ text: String) -> UInt64? {
        let bytes = Array(text.utf8)
        var index = 0
        var value: UInt64 = 0
        while index < bytes.count, let digit = ConfigValue.digit(bytes[index]) {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = added
            index += 1
        }
        guard index > 0 else { return nil }
        let multiplier: UInt64
        switch String(decoding: bytes[index...], as: UTF8.self) {
        case "", "B": multiplier = 1
        case "KiB": multiplier = 1 << 10
        case "MiB": multiplier = 1 << 20
        case "GiB": multiplier = 1 << 30
        default: return nil
        }
        let (result, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        return result
    }

    private static func digit(_ byte: UInt8) -> UInt8? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : nil
    }

    /// The unit at `index` in nanoseconds, and its length in bytes.
    private static func durationUnit(_ bytes: [UInt8], at index: Int) -> (Int64, Int)? {
        guard index < bytes.count else { return nil }
        let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
        switch bytes[index] {
        case UInt8(ascii: "m") where next == UInt8(ascii: "s"):
            return (1_000_000, 2)
        case UInt8(ascii: "m"):
            return (60_000_000_000, 1)
        case UInt8(ascii: "s"):
            return (1_000_000_000, 1)
        case UInt8(ascii: "h"):
            return (3_600_000_000_000, 1)
        default:
            return nil
        }
    }
}
