import NIOCore
import Testing

@testable import HTTPProxy

/// The byte-level parser of app server responses (RFC 9112), fed the way a
/// socket delivers: whole, split at every byte, or one byte at a time.
@Suite("UpstreamResponseParser: app server responses parsed as bytes")
struct UpstreamResponseParserTests {
    /// What one response turned into.
    struct Outcome {
        var heads: [UpstreamResponseHead] = []
        var body: [UInt8] = []
        var ends: [Bool] = []
        var error: UpstreamResponseError?

        var head: UpstreamResponseHead? { self.heads.first }
        var bodyText: String { String(decoding: self.body, as: UTF8.self) }
    }

    /// Feeds `pieces` to a parser armed for one response; EOF at the end when `close`.
    static func parse(_ pieces: [String], head: Bool = false, close: Bool = false) -> Outcome {
        self.parse(bytes: pieces.map { Array($0.utf8) }, head: head, close: close)
    }

    static func parse(bytes pieces: [[UInt8]], head: Bool = false, close: Bool = false) -> Outcome {
        let parser = UpstreamResponseParser()
        parser.expectResponse(toHEAD: head)
        var outcome = Outcome()
        let collect: (UpstreamResponseEvent) -> Void = { event in
            switch event {
            case .head(let head): outcome.heads.append(head)
            case .body(var buffer): outcome.body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end(let reusable): outcome.ends.append(reusable)
            }
        }
        do {
            for piece in pieces {
                try parser.feed(ByteBuffer(bytes: piece), collect)
            }
            if close {
                try parser.endOfInput(collect)
            }
        } catch let error as UpstreamResponseError {
            outcome.error = error
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return outcome
    }

    /// Every way to cut `text` in two.
    static func splits(_ text: String) -> [[[UInt8]]] {
        let bytes = Array(text.utf8)
        return (0...bytes.count).map { [Array(bytes[..<$0]), Array(bytes[$0...])] }
    }

    static let typical =
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: keep-alive\r\n"
        + "Keep-Alive: timeout=5\r\nX-App: r1\r\n\r\nhello world"

    @Test("a Content-Length response: head, body, a reusable end; hop-by-hop lines are not forwarded")
    func contentLength() throws {
        let outcome = Self.parse([Self.typical])
        #expect(outcome.error == nil)
        let head = try #require(outcome.head)
        #expect(head.status == 200)
        #expect(head.framing == .length(11))
        #expect(head.keepAlive)
        #expect(head.forwardedLines == ["Server: nginx", "Content-Type: text/plain", "Content-Length: 11", "X-App: r1"])
        #expect(head.bytes.getString(at: head.bytes.readerIndex + head.statusText.lowerBound, length: head.statusText.count) == "200 OK")
        // Kept lines around a dropped one make two runs; the last two kept ones are separate again.
        #expect(head.runs.count == 2)
        #expect(outcome.bodyText == "hello world")
        #expect(outcome.ends == [true])
    }

    @Test("the same response cut at every byte gives the same result")
    func everySplit() {
        for (index, pieces) in Self.splits(Self.typical).enumerated() {
            let outcome = Self.parse(bytes: pieces)
            #expect(outcome.error == nil, "split \(index)")
            #expect(outcome.heads.count == 1, "split \(index)")
            #expect(outcome.head?.forwardedLines == ["Server: nginx", "Content-Type: text/plain", "Content-Length: 11", "X-App: r1"])
            #expect(outcome.bodyText == "hello world", "split \(index)")
            #expect(outcome.ends == [true], "split \(index)")
        }
    }

    static let chunked =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-App: p1\r\n\r\n"
        + "5\r\nhello\r\n6;name=value\r\n world\r\nA\r\n, and more\r\n0\r\nX-Trailer: dropped\r\n\r\n"

    @Test("a chunked body is de-chunked, extensions and trailers dropped, fed whole or byte by byte")
    func chunkedBody() {
        let whole = Self.parse([Self.chunked])
        let byteByByte = Self.parse(bytes: Array(Self.chunked.utf8).map { [$0] })
        for outcome in [whole, byteByByte] {
            #expect(outcome.error == nil)
            #expect(outcome.head?.framing == .chunked)
            #expect(outcome.head?.forwardedLines == ["X-App: p1"])
            #expect(outcome.bodyText == "hello world, and more")
            #expect(outcome.ends == [true])
        }
        for (index, pieces) in Self.splits(Self.chunked).enumerated() {
            let outcome = Self.parse(bytes: pieces)
            #expect(outcome.bodyText == "hello world, and more" && outcome.ends == [true], "split \(index)")
        }
    }

    @Test("no Content-Length and no chunking: the body runs until the app closes, and the connection is not reused")
    func untilClose() {
        let outcome = Self.parse(["HTTP/1.1 200 OK\r\nX-App: r1\r\n\r\nfirst ", "second"], close: true)
        #expect(outcome.error == nil)
        #expect(outcome.head?.framing == .untilClose)
        #expect(outcome.head?.keepAlive == false)
        #expect(outcome.bodyText == "first second")
        #expect(outcome.ends == [false])
    }

    @Test("responses without a body: to HEAD, 204 and 304 (their framing headers dropped)")
    func noBody() {
        let toHead = Self.parse(["HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"], head: true)
        #expect(toHead.head?.framing == .empty)
        #expect(toHead.head?.forwardedLines == ["Content-Length: 1234"], "a HEAD response keeps the length of what GET would send")
        #expect(toHead.ends == [true])
        for status in ["204 No Content", "304 Not Modified"] {
            let outcome = Self.parse(["HTTP/1.1 \(status)\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n"])
            #expect(outcome.head?.framing == .empty)
            #expect(outcome.head?.forwardedLines == ["ETag: \"x\""])
            #expect(outcome.ends == [true])
        }
    }

    @Test("interim 1xx responses are dropped; the final one is the head")
    func interim() {
        let outcome = Self.parse(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"])
        #expect(outcome.heads.map(\.status) == [201])
        #expect(outcome.bodyText == "ok")
    }

    @Test("Connection decides reuse, and the names it lists are not forwarded")
    func connectionHeader() {
        let listed = Self.parse(["HTTP/1.1 200 OK\r\nConnection: X-Secret, close\r\nX-Secret: 1\r\nX-Public: 2\r\nContent-Length: 0\r\n\r\n"])
        #expect(listed.head?.forwardedLines == ["X-Public: 2", "Content-Length: 0"])
        #expect(listed.head?.keepAlive == false)
        #expect(listed.ends == [false])
        let old = Self.parse(["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"])
        #expect(old.head?.keepAlive == false, "HTTP/1.0 closes unless it says keep-alive")
        let oldKept = Self.parse(["HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"])
        #expect(oldKept.head?.keepAlive == true)
    }

    @Test("a name listed in Connection is cut out of the runs it sat in, with bare LF lines among them")
    func listedNamesSplitRuns() {
        let outcome = Self.parse([
            "HTTP/1.1 200 OK\r\nA: 1\r\nX-Secret: s\r\nB: 2\nConnection: x-secret\r\nC: 3\r\nx-SECRET: t\r\nContent-Length: 0\r\n\r\n"
        ])
        #expect(outcome.error == nil)
        #expect(outcome.head?.forwardedLines == ["A: 1", "B: 2", "C: 3", "Content-Length: 0"])
        #expect(outcome.head?.runs.map(\.appendLineEnd) == [false, true, false, false])
    }

    @Test("a Content-Length named in Connection stays (the client needs it); every other listed name goes, Close included")
    func connectionCannotStripFraming() {
        let outcome = Self.parse(["HTTP/1.1 200 OK\r\nConnection: content-length, close\r\nClose: x\r\nContent-Length: 2\r\n\r\nok"])
        #expect(outcome.head?.framing == .length(2))
        #expect(outcome.head?.forwardedLines == ["Content-Length: 2"])
        #expect(outcome.bodyText == "ok")
        #expect(outcome.ends == [false])
    }

    @Test("a head larger than 80 KiB is refused even when it arrives complete in one read")
    func completeHeadTooLarge() {
        let big = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: 0123456789012345678901234567890123456789\r\n", count: 1_700) + "\r\n"
        let outcome = Self.parse([big])
        #expect(outcome.error == .headTooLarge)
    }

    @Test("a head sent one byte per read is parsed (the end is searched from where the last read stopped)")
    func headByteByByte() {
        let head = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: 0123456789\r\n", count: 200) + "Content-Length: 1\r\n\r\n."
        let outcome = Self.parse(bytes: Array(head.utf8).map { [$0] })
        #expect(outcome.error == nil)
        #expect(outcome.head?.forwardedLines.count == 201)
        #expect(outcome.bodyText == ".")
        #expect(outcome.ends == [true])
    }

    @Test("the app's X-Switchyard-* instructions are read and never forwarded")
    func switchyardHeaders() {
        let outcome = Self.parse(["HTTP/1.1 200 OK\r\nX-Switchyard-Pin: FORCE\r\nX-Switchyard-LSN:  0/3000148 \r\nx-switchyard-other: y\r\nContent-Length: 0\r\n\r\n"])
        #expect(outcome.head?.pinDirective == "force")
        #expect(outcome.head?.lsnText == "0/3000148")
        #expect(outcome.head?.forwardedLines == ["Content-Length: 0"])
    }

    @Test("bare LF line ends are accepted and forwarded as CRLF")
    func bareLineFeeds() {
        let outcome = Self.parse(["HTTP/1.1 200 OK\nA: 1\nB: 2\nContent-Length: 2\n\nok"])
        #expect(outcome.error == nil)
        #expect(outcome.head?.forwardedLines == ["A: 1", "B: 2", "Content-Length: 2"])
        #expect(outcome.head?.runs.allSatisfy(\.appendLineEnd) == true)
        #expect(outcome.bodyText == "ok")
    }

    @Test("bytes after a complete response make the connection unusable")
    func trailingBytes() {
        let outcome = Self.parse(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"])
        #expect(outcome.bodyText == "ok")
        #expect(outcome.ends == [false])
    }

    @Test(
        "malformed or ambiguous responses are errors",
        arguments: [
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", UpstreamResponseError.invalidContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .invalidContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", .invalidContentLength),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .malformedChunk),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX", .malformedChunk),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", .malformedChunk),
            ("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n\r\n", .malformedHeader),
            ("HTTP/1.1 200 OK\r\nBad Name: a\r\n\r\n", .malformedHeader),
            ("HTTP/1.1 200 OK\r\nX-Nul: a\u{0}b\r\n\r\n", .malformedHeader),
            ("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", .malformedHeader),
            ("HTTP/2 200 OK\r\n\r\n", .malformedStatusLine),
            ("HTTP/1.1 20 OK\r\n\r\n", .malformedStatusLine),
            ("HTTP/1.1 200OK\r\n\r\n", .malformedStatusLine),
            ("ICY 200 OK\r\n\r\n", .malformedStatusLine),
            ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", .switchingProtocols),
        ])
    func malformed(text: String, expected: UpstreamResponseError) {
        let outcome = Self.parse([text])
        #expect(outcome.error == expected, "\(text.debugDescription)")
        #expect(outcome.ends.isEmpty)
    }

    @Test("a head that never ends is cut off at 80 KiB")
    func headTooLarge() {
        let big = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: 0123456789012345678901234567890123456789\r\n", count: 1_700)
        let outcome = Self.parse(bytes: Array(big.utf8).chunked(into: 4_096))
        #expect(outcome.error == .headTooLarge)
        #expect(outcome.heads.isEmpty)
    }

    @Test("a response cut short by the app closing is truncated, not complete")
    func truncated() {
        let short = Self.parse(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"], close: true)
        #expect(short.bodyText == "half")
        #expect(short.ends.isEmpty)
        #expect(short.error == .truncated)
        let partialHead = Self.parse(["HTTP/1.1 200 OK\r\nContent-"], close: true)
        #expect(partialHead.error == .truncated)
    }

    @Test("bytes nobody asked for (an idle connection talking) are an error")
    func unexpected() throws {
        let parser = UpstreamResponseParser()
        #expect(throws: UpstreamResponseError.unexpectedData) {
            try parser.feed(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n")) { _ in }
        }
    }

    @Test("armed again after a response, the parser reads the next one on the same connection")
    func reuse() throws {
        let parser = UpstreamResponseParser()
        var statuses: [Int] = []
        var ends: [Bool] = []
        for status in [200, 404, 500] {
            parser.expectResponse(toHEAD: false)
            try parser.feed(ByteBuffer(string: "HTTP/1.1 \(status) X\r\nContent-Length: 1\r\n\r\n.")) { event in
                switch event {
                case .head(let head): statuses.append(head.status)
                case .end(let reusable): ends.append(reusable)
                case .body: break
                }
            }
        }
        #expect(statuses == [200, 404, 500])
        #expect(ends == [true, true, true])
    }
}

extension Array {
    fileprivate func chunked(into size: Int) -> [[Element]] {
        stride(from: 0, to: self.count, by: size).map { Array(self[$0..<Swift.min($0 + size, self.count)]) }
    }
}
