import NIOHTTP1
import Testing

@testable import HTTPProxy

@Suite("HeaderHygiene.strip on header lists")
struct HeaderHygieneUnitTests {
    private func stripped(_ pairs: [(String, String)]) -> [String] {
        var headers = HTTPHeaders(pairs)
        HeaderHygiene.strip(&headers)
        return headers.map { "\($0.name): \($0.value)" }
    }

    @Test("hop-by-hop names, Proxy-* and X-Switchyard-* go in any case; the rest stay in order")
    func removesHopByHop() {
        let result = self.stripped([
            ("Host", "a"), ("CONNECTION", "keep-alive"), ("Keep-Alive", "timeout=5"), ("te", "trailers"), ("Trailer", "x"),
            ("Transfer-Encoding", "chunked"), ("UpGrade", "h2c"), ("Proxy-Authorization", "b"), ("proxy-connection", "c"),
            ("X-SWITCHYARD-Pin", "force"), ("x-switchyard-lsn", "0/1"), ("X-Kept", "1"), ("Cookie", "a=b"), ("Tee", "kept"),
            ("Proxy", "kept"), ("X-Switchyard", "kept"), ("Content-Length", "0"),
        ])
        #expect(result == ["Host: a", "X-Kept: 1", "Cookie: a=b", "Tee: kept", "Proxy: kept", "X-Switchyard: kept", "Content-Length: 0"])
    }

    @Test("names listed in Connection go too, case-insensitively, across several Connection headers")
    func removesListedNames() {
        let result = self.stripped([
            ("Connection", "close, X-Secret"), ("x-secret", "1"), ("X-SECRET", "2"), ("connection", " Other-Hop ,"), ("other-hop", "3"),
            ("X-Secretive", "kept"),
        ])
        #expect(result == ["X-Secretive: kept"])
    }

    @Test("headers with nothing to remove are left as they are")
    func untouched() {
        let pairs = [("Host", "a"), ("User-Agent", "wrk"), ("Content-Type", "text/plain"), ("X-Forwarded-For", "1.2.3.4")]
        #expect(self.stripped(pairs) == pairs.map { "\($0.0): \($0.1)" })
        #expect(self.stripped([]) == [])
    }

    @Test("strip says whether the app sent X-Switchyard-* headers")
    func reportsSwitchyardHeaders() {
        var plain = HTTPHeaders([("Connection", "keep-alive"), ("Content-Length", "3")])
        #expect(!HeaderHygiene.strip(&plain))
        var clean = HTTPHeaders([("Content-Length", "3")])
        #expect(!HeaderHygiene.strip(&clean))
        var pinned = HTTPHeaders([("Connection", "keep-alive"), ("X-Switchyard-Pin", "force"), ("Content-Length", "3")])
        #expect(HeaderHygiene.strip(&pinned))
        #expect(pinned.map(\.name) == ["Content-Length"])
    }

    @Test("case folding touches ASCII letters only")
    func asciiFoldingOnly() {
        #expect(HeaderHygiene.isRemoved("CONNECTION"))
        #expect(!HeaderHygiene.isRemoved("connectio{"))
        #expect(!HeaderHygiene.isRemoved("Connectioñ"))
        #expect(!HeaderHygiene.isRemoved(""))
        #expect(!HeaderHygiene.isRemoved("t"))
        #expect(HeaderHygiene.isRemoved("pRoXy-"))
    }

    /// The word-at-a-time comparison must say what folding A-Z byte by byte
    /// says, for every byte at every position of targets shorter than a
    /// word, one word long and longer (the last word overlapping).
    @Test("the word-at-a-time case-insensitive comparison agrees with the byte loop for every byte at every position")
    func foldedComparisonAgreesWithByteLoop() {
        func byteLoop(_ input: [UInt8], _ target: [UInt8]) -> Bool {
            input.count >= target.count
                && zip(input, target).allSatisfy { actual, expected in
                    (actual >= UInt8(ascii: "A") && actual <= UInt8(ascii: "Z") ? actual | 0x20 : actual) == expected
                }
        }
        for target in ["te", "chunked", "x-switch", "100-continue", "content-length", "transfer-encoding"].map({ Array($0.utf8) }) {
            for position in target.indices {
                for byte in UInt8.min...UInt8.max {
                    var input = target
                    input[position] = byte
                    let folded = input.withUnsafeBytes { bytes in
                        target.withUnsafeBytes { HeaderHygiene.startsWithFolded(bytes, $0) }
                    }
                    #expect(folded == byteLoop(input, target), "byte \(byte) at \(position) of \(target)")
                }
            }
            let short = Array(target.dropLast())
            #expect(!short.withUnsafeBytes { bytes in target.withUnsafeBytes { HeaderHygiene.startsWithFolded(bytes, $0) } })
        }
    }
}

@Suite("HeaderHygiene: Connection lists split on bytes")
struct ConnectionListTests {
    private func elements(_ value: String) -> [String] {
        var result: [String] = []
        HeaderHygiene.forEachListElement(value) { result.append(String($0)) }
        return result
    }

    @Test("elements are split at every comma and trimmed of spaces and tabs")
    func splits() {
        #expect(self.elements("a, b ,\tc\t,, ,d") == ["a", "b", "c", "d"])
        #expect(self.elements("") == [])
        #expect(self.elements(" , ") == [])
        #expect(self.elements("keep-alive") == ["keep-alive"])
    }

    @Test("a comma followed by a combining mark still separates two elements (regression: fuzz header-hygiene)")
    func combiningMarkAfterComma() {
        #expect(self.elements("x-a,\u{301}x-b") == ["x-a", "\u{301}x-b"])
        var headers = HTTPHeaders([("Connection", "X-Secret,\u{301}"), ("X-Secret", "1"), ("X-Kept", "2")])
        HeaderHygiene.strip(&headers)
        #expect(headers.map(\.name) == ["X-Kept"])
    }
}
