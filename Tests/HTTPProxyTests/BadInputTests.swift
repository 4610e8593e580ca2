import HTTPProxy
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Proxy: bad input gets a clear status and reaches no app server")
struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: String
        var status: Int
        var testDescription: String { self.name }
    }

    static let cases: [Case] = [
        Case(name: "garbage request line", bytes: "HELLO\r\n\r\n", status: 400),
        Case(name: "bad header line", bytes: "GET / HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n", status: 400),
        Case(name: "CL and TE", bytes: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        Case(name: "differing duplicate CL", bytes: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", status: 400),
        Case(name: "unsupported transfer coding", bytes: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nxx", status: 400),
        Case(name: "TE chained with chunked", bytes: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 400),
        Case(name: "bad chunk size", bytes: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", status: 400),
        Case(name: "negative content length", bytes: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", status: 400),
        Case(name: "missing Host", bytes: "GET / HTTP/1.1\r\n\r\n", status: 400),
        Case(name: "head over max_header_bytes", bytes: "GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 40_000))\r\n\r\n", status: 431),
        // Regression (found by the reliability suite): the whole head counts, not only names and values.
        Case(
            name: "head of many short headers over max_header_bytes",
            bytes: "GET / HTTP/1.1\r\nHost: t\r\n" + (0..<4_000).map { "X-\($0): v\r\n" }.joined() + "\r\n", status: 431),
        Case(name: "declared body over max_body_bytes", bytes: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 20000000\r\n\r\n", status: 413),
    ]

    @Test(arguments: BadInputTests.cases)
    func badInputIsRefusedAndOthersKeepBeingServed(_ testCase: Case) async throws {
        let harness = try await ProxyHarness.start()
        let raw = try await harness.raw()
        try await raw.send(testCase.bytes)
        let response = try await raw.readResponse()
        #expect(response.status == testCase.status, "\(testCase.name)")
        #expect(await raw.isClosedByPeer(within: .seconds(10)), "\(testCase.name): connection left open")
        raw.close()
        // Nothing complete reached an app server.
        #expect(harness.allServers.allSatisfy { fake in fake.requests.allSatisfy { !$0.isComplete } }, "\(testCase.name)")
        // A normal request on a new connection works.
        let normal = try await harness.client().get("/after")
        #expect(normal.status == 200)
        await harness.stop()
    }

    @Test func aChunkedBodyOverTheLimitIsAbortedWith413() async throws {
        let harness = try await ProxyHarness.start { $0.clients.maxBodyBytes = 100_000 }
        let raw = try await harness.raw()
        try await raw.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        try await raw.sendStreamingBody(totalBytes: 300_000, chunk: 16_384, chunkedEncoding: true)
        let response = try await raw.readResponse()
        #expect(response.status == 413)
        try await eventually(timeout: .seconds(5)) {
            harness.primaries.allSatisfy { $0.requests.allSatisfy { !$0.isComplete } }
        }
        #expect(harness.primaries.allSatisfy { $0.requests.allSatisfy { !$0.isComplete } })
        await harness.stop()
    }

    /// After a complete exchange the connection is idle (idle_timeout); the
    /// first bytes of a next head start the header timeout again.
    @Test func aSlowHeadAfterAKeepAliveExchangeIsCutOffByHeaderTimeout() async throws {
        let harness = try await ProxyHarness.start {
            $0.clients.headerTimeout = .milliseconds(300)
            $0.clients.idleTimeout = .seconds(60)
        }
        let raw = try await harness.raw()
        try await raw.send("GET /first HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try await raw.readResponse().status == 200)
        try await raw.send("GET /second HTTP/1.1\r\nHost:")
        let response = try await raw.readResponse()
        #expect(response.status == 408)
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        await harness.stop()
    }

    @Test func aSlowClientIsCutOffByHeaderTimeout() async throws {
        let harness = try await ProxyHarness.start { $0.clients.headerTimeout = .milliseconds(300) }
        let raw = try await harness.raw()
        try await raw.send("GET / HTTP/1.1\r\nHost: t\r\n")
        let response = try await raw.readResponse()
        #expect(response.status == 408)
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        let normal = try await harness.client().get("/after")
        #expect(normal.status == 200)
        await harness.stop()
    }
}
