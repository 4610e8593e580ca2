#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock helpers for log lines and pin tokens.
public enum WallClock {
    /// Milliseconds since the Unix epoch.
    public static func nowMillis() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }

    /// `2026-11-24T12:00:00.123Z`
    public static func iso8601(millis: UInt64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        WallClock.appendISO8601(millis: millis, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `2026-11-24T12:00:00.123Z` for `millis` since the epoch.
    public static func appendISO8601(millis: UInt64, to bytes: inout [UInt8]) {
        WallClock.writeISO8601(millis: millis, to: &bytes)
    }

    /// The same, over any output: the civil date is computed arithmetically
    /// (proleptic Gregorian calendar, days-to-civil after H. Hinnant), so a log
    /// line costs no libc call, and the 24 bytes go out in one piece.
    static func writeISO8601(millis: UInt64, to output: inout some LogByteOutput) {
        var cache = TimestampCache()
        WallClock.writeISO8601(millis: millis, cache: &cache, to: &output)
    }

    /// The same through `cache`: the lines of one second compute the date
    /// and time once, then only their milliseconds.
    static func writeISO8601(millis: UInt64, cache: inout TimestampCache, to output: inout some LogByteOutput) {
        let second = millis / 1000
        if cache.second != second {
            cache.text = WallClock.iso8601Text(millis: millis)
            cache.second = second
        }
        var text = cache.text
        withUnsafeMutableBytes(of: &text) { buffer in
            let fraction = Int(millis % 1000)
            buffer[20] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction / 100)
            buffer[21] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction / 10 % 10)
            buffer[22] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction % 10)
            output.put(UnsafeRawBufferPointer(buffer))
        }
    }

    /// `yyyy-mm-ddThh:mm:ss.mmmZ`, 24 bytes.
    private static func iso8601Text(millis: UInt64) -> (UInt64, UInt64, UInt64) {
        let seconds = millis / 1000
        let days = Int64(seconds / 86_400)
        let secondOfDay = Int(seconds % 86_400)
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        // Four digits, as ISO 8601 has them: a clock past 9999 shows 9999.
        let year = Int(clamping: min(max(yearOfEra + era * 400 + (month <= 2 ? 1 : 0), 0), 9999))
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)  // "yyyy-mm-ddThh:mm:ss.mmmZ", 24 bytes
        withUnsafeMutableBytes(of: &text) { buffer in
            func digits(_ value: Int, _ width: Int, at end: Int) {
                var rest = value
                for index in stride(from: end - 1, through: end - width, by: -1) {
                    buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                    rest /= 10
                }
            }
            digits(year, 4, at: 4)
            buffer[4] = UInt8(ascii: "-")
            digits(month, 2, at: 7)
            buffer[7] = UInt8(ascii: "-")
            digits(day, 2, at: 10)
            buffer[10] = UInt8(ascii: "T")
            digits(secondOfDay / 3600, 2, at: 13)
            buffer[13] = UInt8(ascii: ":")
            digits(secondOfDay / 60 % 60, 2, at: 16)
            buffer[16] = UInt8(ascii: ":")
            digits(secondOfDay % 60, 2, at: 19)
            buffer[19] = UInt8(ascii: ".")
            digits(Int(millis % 1000), 3, at: 23)
            buffer[23] = UInt8(ascii: "Z")
        }
        return text
    }
}

/// The date and time of the last second a line was stamped with (see
/// `LogLineCursor.timestampValue(millis:cache:)`): one per writer, e.g. per event loop.
public struct TimestampCache: Sendable {
    fileprivate var second: UInt64 = .max
    fileprivate var text: (UInt64, UInt64, UInt64) = (0, 0, 0)

    public init() {}
}
