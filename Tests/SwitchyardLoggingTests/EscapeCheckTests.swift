import Testing

@testable import SwitchyardLogging

@Suite("LogLine: which values are written verbatim")
struct EscapeCheckTests {
    /// `needsEscape` checks eight bytes at a time; it must say exactly what
    /// checking each byte says, in both formats.
    @Test("the word-at-a-time escape check agrees with the byte check for every byte at every position", arguments: [false, true])
    func wordCheckAgreesWithByteCheck(logfmt: Bool) {
        func needsEscape(_ byte: UInt8) -> Bool {
            byte < (logfmt ? 0x21 : 0x20) || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (logfmt && byte == UInt8(ascii: "="))
        }
        // Shorter than a word, one word, a word and a tail, two words.
        for base in ["GET", "/items/1", "127.0.0.1:21011", "replica-a-long16"].map({ Array($0.utf8) }) {
            for position in base.indices {
                for byte in UInt8.min...UInt8.max {
                    var value = base
                    value[position] = byte
                    let checked = value.withUnsafeBytes { LogLine.needsEscape($0, logfmt: logfmt) }
                    #expect(checked == value.contains(where: needsEscape), "byte \(byte) at \(position) of \(base.count)")
                }
            }
        }
    }
}
