import SwitchyardLogging
import Testing

@Suite("LogLineCursor: a line written into memory the caller holds")
struct LogLineCursorTests {
    @Test("writes the same bytes as LogLine, value by value", arguments: [LogLine.Format.json, .logfmt])
    func sameBytesAsLogLine(format: LogLine.Format) {
        let values = ["", "plain", "a b=c", "quote \" backslash \\ newline \n tab \t nul \u{0}", "é 雪 🚂"]
        var expected = LogLine(format: format)
        var timestamps = TimestampCache()
        expected.literal("k=")
        expected.timestampValue(millis: 1_764_000_000_123, cache: &timestamps)
        for value in values {
            expected.literal(" ")
            expected.stringValue(value)
        }
        expected.nullValue()
        expected.intValue(-42)
        expected.decimalValue(12.5)
        expected.decimalValue(0.0004567, decimals: 3)

        let bytes = withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 1) { memory -> [UInt8] in
            var line = LogLineCursor(format: format, into: memory)
            var timestamps = TimestampCache()
            line.literal("k=")
            line.timestampValue(millis: 1_764_000_000_123, cache: &timestamps)
            for value in values {
                line.literal(" ")
                line.stringValue(value)
            }
            line.nullValue()
            line.intValue(-42)
            line.decimalValue(12.5)
            line.decimalValue(0.0004567, decimals: 3)
            line.finish()
            #expect(!line.overflowed)
            return Array(line.bytes)
        }
        #expect(bytes == expected.takeBytes())
    }

    @Test("a piece that does not fit is not written: the cursor says so and stays within its memory")
    func overflow() {
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 1) { memory in
            memory.initializeMemory(as: UInt8.self, repeating: 0xEE)
            let inside = UnsafeMutableRawBufferPointer(rebasing: memory[0..<8])
            var line = LogLineCursor(format: .logfmt, into: inside)
            line.literal("1234567")
            #expect(!line.overflowed)
            line.literal("89")  // two bytes, one left
            #expect(line.overflowed)
            #expect(line.count == 7)
            line.put(UInt8(ascii: "8"))  // the last byte still fits
            line.put(UInt8(ascii: "9"))
            #expect(line.count == 8)
            #expect(Array(line.bytes) == Array("12345678".utf8))
            // Nothing past the memory it was given.
            #expect(memory[8..<16].allSatisfy { $0 == 0xEE })
        }
    }

    @Test("no memory: every piece overflows, nothing is written")
    func noMemory() {
        var line = LogLineCursor(format: .json, into: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        line.literal("x")
        #expect(line.overflowed)
        #expect(line.count == 0)
    }
}
