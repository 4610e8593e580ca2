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

    /// Appends `2026-11-24T12:00:00.123Z` for `millis` since the epoch, with
    /// the civil date computed arithmetically (proleptic Gregorian calendar,
    /// days-to-civil after H. Hinnant), so a log line costs no libc call.
    public static func appendISO8601(millis: UInt64, to bytes: inout [UInt8]) {
        let seconds = millis / 1000
        let days = Int64(seconds / 86_400)
        let secondOfDay = seconds % 86_400
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        LogLine.appendDigits(UInt64(clamping: year), minimumWidth: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        LogLine.appendDigits(UInt64(clamping: month), minimumWidth: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        LogLine.appendDigits(UInt64(clamping: day), minimumWidth: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        LogLine.appendDigits(secondOfDay / 3600, minimumWidth: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        LogLine.appendDigits(secondOfDay / 60 % 60, minimumWidth: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        LogLine.appendDigits(secondOfDay % 60, minimumWidth: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        LogLine.appendDigits(millis % 1000, minimumWidth: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }
}
