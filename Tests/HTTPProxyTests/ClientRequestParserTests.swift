import NIOCore
import Testing

@testable import HTTPProxy

@Suite("ClientRequestParser: client requests parsed as bytes")
struct ClientRequestParserTests {
    /// What the parser made of some pieces of input, fed one by one.
    struct Outcome {
        var heads: [ClientRequestHead] = []
        var bodies: [String] = []
        var ends = 0
        var error: ClientRequestError?
        /// Events in order: "head GET /x", "body hello", "end".
        var events: [String] = []
    }

    static func parse(_ pieces: [String], maximumHeadBytes: Int = 32 * 1024) -> Outcome {
        var parser = ClientRequestParser(maximumHeadBytes: maximumHeadBytes)
        var outcome = Outcome()
        var body = ""
        for piece in pieces {
            parser.append(ByteBuffer(string: piece))
            do {
                while let event = try parser.next() {
                    switch event {
                    case .head(let head):
                        outcome.heads.append(head)
                        outcome.events.append("head \(head.method) \(head.uri)")
                    case .body(let slice):
                        let text = String(buffer: slice)
                        body += text
                        outcome.events.append("body \(text)")
                    case .end:
                        outcome.bodies.append(body)
                        body = ""
                        outcome.ends += 1
                        outcome.events.append("end")
                    }
                }
            } catch {
                outcome.error = error
                return outcome
            }
        }
        return outcome
    }

    /// Every way of cutting `text` in two.
    static func splits(_ text: String) -> [[String]] {
        let bytes = Array(text.utf8)
        return (1..<bytes.count).map { [String(decoding: bytes[..<$0], as: UTF8.self), String(decoding: bytes[$0...], as: UTF8.self)] }
    }

    static func forwarded(_ head: ClientRequestHead) -> [String] {
        head.bytes.withUnsafeReadableBytes { bytes in
            head.runs.flatMap { run in
                HeadLines.string(bytes, run.start..<(run.start + run.length)).split(separator: "\r\n").map(String.init)
            }
        }
    }

    static let post = "POST /orders?id=1 HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\nX-App: 1\r\n\r\nhello"

    @Test("a request with a Content-Length body, whole and cut at every byte")
    func lengthBody() {
        for pieces in [[Self.post]] + Self.splits(Self.post) {
            let outcome = Self.parse(pieces)
            #expect(outcome.error == nil, "\(pieces)")
            #expect(outcome.heads.count == 1 && outcome.ends == 1, "\(pieces)")
            #expect(outcome.bodies == ["hello"], "\(pieces)")
            guard let head = outcome.heads.first else { continue }
            #expect(head.method == "POST" && head.uri == "/orders?id=1" && head.path == "/orders")
            #expect(head.framing == .length(5) && head.keepAlive && !head.isHTTP10)
            #expect(head.host == "shop" && head.hostCount == 1)
            #expect(Self.forwarded(head) == ["Host: shop", "X-App: 1"], "Content-Length is written by the proxy, not copied")
        }
    }

    @Test("a chunked body is unframed, whole and cut at every byte; trailers are dropped")
    func chunkedBody() {
        let text = "PUT /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n5 ;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
        for pieces in [[text]] + Self.splits(text) {
            let outcome = Self.parse(pieces)
            #expect(outcome.error == nil, "\(pieces)")
            #expect(outcome.bodies == ["hello world"], "\(pieces)")
            #expect(outcome.heads.first?.framing == .chunked)
            #expect(outcome.heads.first.map(Self.forwarded) == ["Host: t"], "Transfer-Encoding is hop-by-hop")
        }
    }

    @Test("pipelined requests come out in order, with empty lines between them ignored")
    func pipelined() {
        let outcome = Self.parse(["GET /1 HTTP/1.1\r\nHost: t\r\n\r\n\r\n" + Self.post + "GET /3 HTTP/1.1\r\nHost: t\r\n\r\n"])
        #expect(outcome.error == nil)
        #expect(outcome.events == ["head GET /1", "end", "head POST /orders?id=1", "body hello", "end", "head GET /3", "end"])
    }

    @Test("names are noticed in any case; look-alikes are not")
    func notices() {
        let head = Self.parse([
            "GET / HTTP/1.1\r\nHOST: a\r\nCookie: x=1\r\nEXPECT: 100-Continue\r\nX-Real-IP: 1.2.3.4\r\n"
                + "Hosts: b\r\nCookies: y\r\nX-Forwarded: 1\r\nExpects: z\r\nX-Forwarded-Port: 8\r\n\r\n"
        ]).heads.first
        #expect(head?.host == "a" && head?.hostCount == 1)
        #expect(head?.hasCookie == true && head?.expectsContinue == true && head?.hasForwarded == true)
        #expect(head.map(Self.forwarded) == ["HOST: a", "Cookie: x=1", "Hosts: b", "Cookies: y", "X-Forwarded: 1", "Expects: z", "X-Forwarded-Port: 8"])
        #expect(head?.firstValue("cookies") == "y")
        #expect(head?.values("cookie") == ["x=1"])

        let plain = Self.parse(["GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded: 1\r\nExpect: something\r\n\r\n"]).heads.first
        #expect(plain?.hasForwarded == false && plain?.expectsContinue == false)
        #expect(plain.map(Self.forwarded) == ["Host: a", "X-Forwarded: 1", "Expect: something"])
    }

    @Test("what never reaches the app: hop-by-hop, Connection-listed (but Host), underscore names, incoming forwarding headers")
    func dropped() {
        let head = Self.parse([
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret, host, close\r\nX-Secret: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nClose: 1\r\n"
                + "Upgrade: h2c\r\nProxy-Authorization: x\r\nX-Switchyard-Pin: force\r\nX_Under: 1\r\nX-Forwarded-For: 6.6.6.6\r\n"
                + "x-forwarded-proto: https\r\nX-Forwarded-Host: evil\r\nX-Kept: 1\r\n\r\n"
        ]).heads.first
        #expect(head.map(Self.forwarded) == ["Host: a", "X-Kept: 1"])
        #expect(head?.values("x-forwarded-for") == ["6.6.6.6"], "still readable for trusted proxies")
    }

    @Test("keep-alive: HTTP/1.1 unless close, HTTP/1.0 only when asked")
    func keepAlive() {
        #expect(Self.parse(["GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"]).heads.first?.keepAlive == false)
        #expect(Self.parse(["GET / HTTP/1.0\r\n\r\n"]).heads.first?.keepAlive == false)
        let ten = Self.parse(["GET / HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n"]).heads.first
        #expect(ten?.keepAlive == true && ten?.isHTTP10 == true && ten?.hostCount == 0)
        #expect(ten?.expectsContinue == false, "an HTTP/1.0 expectation is ignored")
        #expect(ten.map(Self.forwarded) == [])
    }

    @Test("a head is refused with the status it deserves", arguments: [
        ("HELLO\r\n\r\n", ClientRequestError.malformedRequest),
        ("GET / HTTP/1.1\r\nHost: t\r\nno colon\r\n\r\n", .malformedRequest),
        ("GET / HTTP/1.1\r\nHost: t\r\nBad Name: v\r\n\r\n", .malformedRequest),
        ("GET / HTTP/1.1\r\nHost: t\r\nX-A : v\r\n\r\n", .malformedRequest),
        ("GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", .malformedRequest),
        ("GET / HTTP/1.1\r\nHost: t\r\nX-A: a\nX-B: b\r\n\r\n", .malformedRequest),
        ("GET / HTTP/1.1\nHost: t\r\n\r\n", .malformedRequest),
        ("GET / HTTP/1.1\r\nHost: t\r\nX-A: a\u{0}b\r\n\r\n", .malformedRequest),
        ("GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", .malformedRequest),
        ("GET /\u{7F} HTTP/1.1\r\nHost: t\r\n\r\n", .malformedRequest),
        ("GET / HTTQ/1.1\r\nHost: t\r\n\r\n", .malformedRequest),
        ("GET / HTTP/1.1 \r\nHost: t\r\n\r\n", .malformedRequest),
        (" / HTTP/1.1\r\nHost: t\r\n\r\n", .malformedRequest),
        ("GET / HTTP/2.0\r\nHost: t\r\n\r\n", .unsupportedVersion),
        ("GET / HTTP/1.2\r\nHost: t\r\n\r\n", .unsupportedVersion),
        ("CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n", .methodNotAllowed),
        ("GET / HTTP/1.1\r\n\r\n", .hostRequired),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .hostRequired),
        ("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", .hostRequired),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1234567890123456789\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", .ambiguousTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .ambiguousTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .ambiguousTransferEncoding),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .ambiguousTransferEncoding),
    ])
    func refused(_ text: String, _ expected: ClientRequestError) {
        #expect(Self.parse([text]).error == expected)
    }

    @Test("chunk framing errors are body errors", arguments: ["zz\r\n", "5\nhello\r\n", "3\r\nhello\r\n", "5;\u{1}\r\n", "10000000000000000\r\n", "5 5\r\nhello\r\n", "5 \r\nhello\r\n",
        "0\r\nX-T: a\nGET /hidden HTTP/1.1\r\n\r\n", "0\r\nX-T: a\u{0}\r\n\r\n"])
    func badChunks(_ framing: String) {
        let outcome = Self.parse(["POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + framing + "0\r\n\r\n"])
        #expect(outcome.heads.count == 1)
        #expect(outcome.error == .malformedBody)
    }

    @Test("a head over the limit is refused whether or not it is complete")
    func tooLarge() {
        let big = "GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 2_000))\r\n\r\n"
        #expect(Self.parse([big], maximumHeadBytes: 1_024).error == .headTooLarge)
        #expect(Self.parse([String(big.prefix(1_500))], maximumHeadBytes: 1_024).error == .headTooLarge)
        #expect(Self.parse([big], maximumHeadBytes: 4_096).heads.count == 1)
    }

    @Test("a partial head that can never be valid is refused before it completes")
    func hopeless() throws {
        #expect(Self.parse(["\u{16}\u{3}\u{1}\u{2}\u{0}"]).error == .malformedRequest, "a TLS handshake")
        #expect(Self.parse(["GET / HTTP/1.1\rHost"]).error == .malformedRequest, "a bare CR")
        #expect(Self.parse(["GET / HTTP/1.1\nHost"]).error == .malformedRequest, "a bare LF")
        var parser = ClientRequestParser(maximumHeadBytes: 1_024)
        parser.append(ByteBuffer(string: "GET / HTTP/1.1\r\nHo"))
        #expect(try parser.next() == nil)
        #expect(parser.hasPartialHead)
        parser.append(ByteBuffer(string: "\r"))
        #expect(try parser.next() == nil)
    }

    @Test("nothing is kept between requests (the channel's receive buffer can be reused)")
    func nothingKept() throws {
        var parser = ClientRequestParser(maximumHeadBytes: 1_024)
        parser.append(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: t\r\n\r\n"))
        guard case .head = try parser.next() else { Issue.record("no head"); return }
        guard case .end = try parser.next() else { Issue.record("no end"); return }
        #expect(try parser.next() == nil)
        #expect(parser.bufferedBytes == 0 && !parser.hasPartialHead)
    }

    @Test("after an error nothing more is read or kept")
    func afterAnError() throws {
        var parser = ClientRequestParser(maximumHeadBytes: 1_024)
        parser.append(ByteBuffer(string: "HELLO\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"))
        #expect(throws: ClientRequestError.malformedRequest) { try parser.next() }
        parser.append(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: t\r\n\r\n"))
        #expect(parser.bufferedBytes == 0)
        #expect(try parser.next() == nil)
    }
}
