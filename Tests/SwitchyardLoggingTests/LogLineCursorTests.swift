import SwitchyardLogging
import Testing

@Suite("LogLineCursor: a line written into memory the caller holds")
struct LogLineCursorTests {
    @Test("its values are written as LogLine's keyed methods write theirs", arguments: [LogLine.Format.json, .logfmt])
    func sameBytesAsLogLine(format: LogLine.Format) {
        let values = ["", "plain", "a b=c", "quote \" backslash \\ newline \n tab \t nul \u{0}", "é 雪 🚂"]
        var expected = LogLine(format: format)
        expected.timestamp("ts", millis: 1_764_000_000_123)
        for (index, value) in values.enumerated() {
            expected.string("s\(index)", value)
        }
        expected.null("n")
        expected.int("i", -42)
        expected.double("d", 12.5)
        expected.double("e", 0.0004567, decimals: 3)

        let json = format == .json
        let bytes = withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 1) { memory -> [UInt8] in
            var line = LogLineCursor(format: format, into: memory)
            var timestamps = TimestampCache()
            // The keys and separators as a fixed-key line writes them: in its own literals.
            line.literal(json ? #""ts":"# : "ts=")
            line.timestampValue(millis: 1_764_000_000_123, cache: &timestamps)
            for (index, value) in values.enumerated() {
                Self.put(json ? #","s\#(index)":"# : " s\(index)=", to: &line)
                line.stringValue(value)
            }
            line.literal(json ? #","n":"# : " n=")
            line.nullValue()
            line.literal(json ? #","i":"# : " i=")
            line.intValue(-42)
            line.literal(json ? #","d":"# : " d=")
            line.decimalValue(12.5)
            line.literal(json ? #","e":"# : " e=")
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

    static func put(_ text: String, to line: inout LogLineCursor) {
        var text = text
        text.withUTF8 { line.put(UnsafeRawBufferPointer($0)) }
    }
}
