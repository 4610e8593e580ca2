import Testing

@testable import HTTPProxy

@Suite("HeadLines: header line bytes")
struct HeadLinesTests {
    /// `areFieldValueBytes` checks eight bytes at a time; it must say exactly
    /// what checking each byte with `isFieldValueByte` says.
    @Test("the word-at-a-time value check agrees with the byte check for every byte at every position")
    func wordCheckAgreesWithByteCheck() {
        // 21 bytes: two whole words and a 5-byte tail; offsets 0 and 3 put
        // the words at different alignments.
        let base = Array("text/plain; q=0.9 \u{7E}!?".utf8)
        #expect(base.count == 21)
        for offset in [0, 3] {
            for position in base.indices {
                for byte in UInt8.min...UInt8.max {
                    var value = base
                    value[position] = byte
                    let padded = Array(repeating: UInt8(ascii: "a"), count: offset) + value
                    let expected = value.allSatisfy(HeadLines.isFieldValueByte)
                    let checked = padded.withUnsafeBytes { HeadLines.areFieldValueBytes($0, offset..<padded.count) }
                    #expect(checked == expected, "byte \(byte) at \(position), offset \(offset)")
                }
            }
        }
    }

    @Test("isTokenByte is RFC 9110's tchar, for every byte")
    func tokenBytes() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        #expect(tchar.count == 77)
        for byte in UInt8.min...UInt8.max {
            #expect(HeadLines.isTokenByte(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }

    @Test("a bad byte next to a tab or obs-text is still found")
    func badBytesAmongAllowedOnes() {
        let cases: [([UInt8], Bool)] = [
            ([0x09, 0x09, 0x09, 0x09, 0x09, 0x09, 0x09, 0x09], true),
            ([0x80, 0xFF, 0x09, 0x20, 0x7E, 0x21, 0xC3, 0xA9], true),
            ([0x09, 0x1F, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41], false),
            ([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F], false),
            ([0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x00], false),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0A], false),
            ([], true),
        ]
        for (bytes, valid) in cases {
            #expect(bytes.withUnsafeBytes { HeadLines.areFieldValueBytes($0, 0..<bytes.count) } == valid, "\(bytes)")
        }
    }
}
