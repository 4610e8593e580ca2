import Foundation
import SwitchyardLogging
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("LogLine: JSON and logfmt lines built as bytes")
struct LogLineTests {
    @Test("a JSON line parses back to the values written, with every escape")
    func jsonRoundTrip() throws {
        let awkward = "quote \" backslash \\ newline \n cr \r tab \t bell \u{07} nul \u{0} é 雪 🚂"
        var line = LogLine(format: .json)
        line.string("text", awkward)
        line.plain("level", "info")
        line.int("negative", -42)
        line.int("zero", 0)
        line.uint("big", UInt64.max)
        line.double("ms", 12.5)
        line.bool("flag", true)
        line.null("nothing")
        line.optionalString("maybe", nil)
        line.string("we\"ird key", "v")
        line.timestamp("ts", millis: 1_764_000_000_123)
        let data = Data(line.finished().utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["text"] as? String == awkward)
        #expect(object["level"] as? String == "info")
        #expect(object["negative"] as? Int == -42)
        #expect(object["zero"] as? Int == 0)
        #expect((object["big"] as? NSNumber)?.uint64Value == UInt64.max)
        #expect(object["ms"] as? Double == 12.5)
        #expect(object["flag"] as? Bool == true)
        #expect(object["nothing"] is NSNull)
        #expect(object["maybe"] is NSNull)
        #expect(object["we\"ird key"] as? String == "v")
        #expect(object["ts"] as? String == "2025-11-24T16:00:00.123Z")
        #expect(line.finishedBytes() == Array(line.finished().utf8))
    }

    @Test(
        "decimals keep at most the asked fraction digits, without trailing zeros",
        arguments: [
            (0.0, 3, "0"), (1.0, 3, "1"), (1.5, 3, "1.5"), (0.0004, 3, "0"), (0.0005, 3, "0.001"), (12.3456, 3, "12.346"),
            (-2.25, 2, "-2.25"), (0.05, 3, "0.05"), (1.0009, 3, "1.001"), (-0.0001, 3, "0"), (Double.nan, 3, "0"),
            (Double.infinity, 3, "0"), (123_456.789, 0, "123457"), (0.000001, 6, "0.000001"),
            // Every number of decimals (each has its own constant divisor).
            (1.25, 1, "1.3"), (3.14159, 4, "3.1416"), (2.718281, 5, "2.71828"), (0.1234567, 7, "0.1234567"),
            (1.00000001, 8, "1.00000001"), (0.123456789, 9, "0.123456789"), (7.5, 12, "7.5"),
        ])
    func decimals(value: Double, decimals: Int, expected: String) {
        var bytes: [UInt8] = []
        LogLine.appendDecimal(value, decimals: decimals, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }

    @Test("values of every length up to 300 bytes, across the staging buffer's edges, come out whole and in order")
    func longAndShortValues() {
        var line = LogLine(format: .logfmt, reusing: Array(repeating: UInt8(ascii: "x"), count: 40))
        var expected: [String] = []
        for length in 0...300 {
            let value = String((0..<length).map { Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8($0 % 26))) })
            line.string("k\(length)", value)
            expected.append("k\(length)=" + (length == 0 ? "\"\"" : value))
            if length % 7 == 0 {
                line.uint("n\(length)", UInt64(length) * 1_000_003)
                expected.append("n\(length)=\(UInt64(length) * 1_000_003)")
            }
        }
        #expect(String(decoding: line.bytes, as: UTF8.self) == expected.joined(separator: " "))
        #expect(String(decoding: line.takeBytes(), as: UTF8.self) == expected.joined(separator: " "))
    }

    @Test("logfmt quotes only values that need it")
    func logfmt() {
        var line = LogLine(format: .logfmt)
        line.string("a", "plain")
        line.string("b", "two words")
        line.string("c", "")
        line.string("d", "x=y")
        line.plain("e", "info")
        line.null("f")
        line.int("g", 7)
        #expect(line.finished() == #"a=plain b="two words" c="" d="x=y" e=info f= g=7"#)
    }

    @Test("the timestamp matches gmtime for dates across eras, leap days and the last millisecond of a year")
    func timestampsMatchGmtime() {
        var millis: [UInt64] = [0, 951_782_400_000, 951_868_799_999, 1_709_164_800_000, 1_735_689_599_999, 4_102_444_800_000, 253_402_300_799_999]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            millis.append(state % 253_402_300_800_000)
        }
        for value in millis {
            var seconds = time_t(value / 1000)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                parts.tm_min, parts.tm_sec, Int32(value % 1000))
            #expect(WallClock.iso8601(millis: value) == expected, "millis \(value)")
        }
    }

    @Test("a timestamp through the per-second cache is the one formatted afresh, across seconds, days and years, forwards and back")
    func cachedTimestampsMatchFreshOnes() {
        // Runs of milliseconds inside one second and across second, day and year
        // boundaries, then jumps (a clock stepped back included).
        var millis: [UInt64] = []
        for start: UInt64 in [1_735_689_599_990, 1_709_251_199_995, 1_764_979_200_000, 951_868_799_998] {
            millis.append(contentsOf: start..<(start + 25))
        }
        millis.append(contentsOf: [1_764_979_200_000, 1_764_979_199_999, 0, 253_402_300_799_999, 1_764_979_200_001])
        var cache = TimestampCache()
        for value in millis {
            // Through the cache, as the decision line writes it ...
            let cached = withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { memory -> String in
                var line = LogLineCursor(format: .logfmt, into: memory)
                line.timestampValue(millis: value, cache: &cache)
                return String(decoding: line.bytes, as: UTF8.self)
            }
            // ... and formatted afresh, with no cache.
            #expect(cached == WallClock.iso8601(millis: value), "millis \(value)")
        }
    }

    @Test("the stdout sink writes every line whole and in order, through all three entry points")
    func sinkWritesLines() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let sink = StandardOutputSink(fileDescriptor: fds[1], flushIntervalMillis: 1)
        var index = 0
        while index < 500 {
            switch index % 3 {
            case 0:
                sink.write(line: "line \(index)")
            case 1:
                sink.write(bytes: Array("line \(index)".utf8))
            default:
                // A batch of three whole lines.
                sink.write(batch: Array("line \(index)\nline \(index + 1)\nline \(index + 2)\n".utf8))
                index += 2
            }
            index += 1
        }
        sink.flush()
        close(fds[1])
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        close(fds[0])
        let lines = String(decoding: received, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines == (0..<index).map { "line \($0)" })
    }

    @Test("a sink without a batch entry point gets a batch line by line")
    func batchesSplitIntoLines() {
        let sink = MemoryLogSink()
        sink.write(batch: Array("first\nsecond=2\n\nlast\n".utf8))
        sink.write(batch: Array("unterminated".utf8))
        #expect(sink.lines == ["first", "second=2", "", "last", "unterminated"])
    }

    @Test("a line built after a batch's earlier lines is the line built alone")
    func appendedLinesMatchBuiltLines() {
        var batch: [UInt8] = Array("earlier\n".utf8)
        var expected = "earlier\n"
        for index in 0..<3 {
            let format: LogLine.Format = index == 1 ? .json : .logfmt
            var alone = LogLine(format: format)
            alone.int("n", index)
            alone.string("s", "a \"quoted\" value")
            expected += alone.finished() + "\n"
            var appended = LogLine(format: format, appendingTo: batch)
            appended.int("n", index)
            appended.string("s", "a \"quoted\" value")
            batch = appended.takeBytes()
            batch.append(UInt8(ascii: "\n"))
        }
        #expect(String(decoding: batch, as: UTF8.self) == expected)
    }
}
