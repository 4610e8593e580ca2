import HTTPProxy
import SwitchyardCore
import SwitchyardTestSupport
import Testing

/// What goes over the wire in each direction now that Switchyard writes the
/// upstream request head and the client's response head itself.
@Suite("Proxy: request and response heads on the wire", .serialized)
struct WireFormatTests {
    @Test("a chunked request body reaches the app whole, chunked again, after a retry too")
    func chunkedRequestBody() async throws {
        let harness = try await ProxyHarness.start()
        let raw = try await harness.raw()
        try await raw.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        try await raw.sendStreamingBody(totalBytes: 50_000, chunk: 7_000, chunkedEncoding: true)
        let response = try await raw.readResponse()
        #expect(response.status == 200)
        let echo = try response.echo()
        #expect(echo.bodyBytes == 50_000)
        #expect(echo.headers["transfer-encoding"] == "chunked")
        #expect(echo.headers["content-length"] == nil)
        await harness.stop()
    }

    @Test("a POST without a body is sent with Content-Length: 0; a GET without one gets no framing header")
    func lengthlessRequests() async throws {
        let harness = try await ProxyHarness.start()
        let raw = try await harness.raw()
        try await raw.send("POST /empty HTTP/1.1\r\nHost: t\r\n\r\n")
        let post = try await raw.readResponse()
        #expect(post.status == 200)
        let postEcho = try post.echo()
        #expect(postEcho.method == "POST")
        #expect(postEcho.headers["content-length"] == "0")
        #expect(postEcho.headers["transfer-encoding"] == nil)
        try await raw.send("GET /plain HTTP/1.1\r\nHost: t\r\n\r\n")
        let getEcho = try await raw.readResponse().echo()
        #expect(getEcho.headers["content-length"] == nil)
        #expect(getEcho.headers["transfer-encoding"] == nil)
        await harness.stop()
    }

    @Test("the query string, method and header values reach the app exactly as the client sent them")
    func requestLineAndValuesVerbatim() async throws {
        let harness = try await ProxyHarness.start()
        let raw = try await harness.raw()
        try await raw.send("DELETE /items/7?force=1&x=%20y HTTP/1.1\r\nHost: t\r\nX-Odd:  spaced  value\r\nX-Utf8: caf\u{e9}\r\n\r\n")
        let echo = try await raw.readResponse().echo()
        #expect(echo.method == "DELETE")
        #expect(echo.uri == "/items/7?force=1&x=%20y")
        #expect(echo.headers["x-odd"] == "spaced  value")
        #expect(echo.headers["x-utf8"] == "caf\u{e9}")
        await harness.stop()
    }

    @Test("response headers: hop-by-hop, Connection-listed and X-Switchyard-* stay with the proxy; the rest arrive verbatim")
    func responseHygiene() async throws {
        let harness = try await ProxyHarness.start()
        for fake in harness.replicaA {
            fake.setBehavior(
                .respond(
                    status: 203,
                    headers: [
                        ("Connection", "X-Internal"), ("X-Internal", "secret"), ("Keep-Alive", "timeout=5"),
                        ("Proxy-Authenticate", "Basic"), ("X-Switchyard-Pin", "none"), ("Upgrade", "h2c"),
                        ("X-Visible", "Mixed Case Value"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
                    ],
                    body: "body"))
        }
        let response = try await harness.client().get("/r")
        #expect(response.status == 203)
        for name in ["x-internal", "keep-alive", "proxy-authenticate", "x-switchyard-pin", "upgrade"] {
            #expect(response.header(name) == nil, "\(name) reached the client")
        }
        #expect(response.header("x-visible") == "Mixed Case Value")
        #expect(response.headers(named: "set-cookie") == ["a=1", "b=2"])
        #expect(response.bodyString == "body")
        await harness.stop()
    }
}

/// Framing headers are Switchyard's to write: a `Connection` header that lists
/// `Content-Length` must not strip the length of a body that is forwarded
/// anyway (the body would become the app's next request).
@Suite("Proxy: Connection cannot strip framing", .serialized)
struct ConnectionListedFramingTests {
    @Test(
        "a request whose Connection lists Content-Length keeps its length; its body never becomes a request",
        arguments: ["POST", "GET", "DELETE"])
    func requestContentLengthListedInConnection(method: String) async throws {
        let harness = try await ProxyHarness.start()
        let smuggled = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
        let raw = try await harness.raw()
        try await raw.send(
            "\(method) /upload HTTP/1.1\r\nHost: t\r\nConnection: Content-Length\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)")
        let response = try await raw.readResponse()
        #expect(response.status == 200)
        let echo = try response.echo()
        #expect(echo.uri == "/upload")
        #expect(echo.bodyBytes == smuggled.utf8.count)
        #expect(echo.headers["content-length"] == String(smuggled.utf8.count))
        // Another request on the same upstream connections, then: nothing else reached an app.
        #expect(try await harness.client().get("/after").status == 200)
        let paths = (harness.primaries + harness.replicaA).flatMap { $0.requests.map(\.path) }
        #expect(!paths.contains("/smuggled"), "the body was read as a request: \(paths)")
        await harness.stop()
    }

    @Test("a response whose Connection lists Content-Length keeps its length for the client")
    func responseContentLengthListedInConnection() async throws {
        let harness = try await ProxyHarness.start()
        for fake in harness.replicaA {
            fake.setBehavior(.respond(status: 200, headers: [("Connection", "content-length, close"), ("Close", "x")], body: "ok"))
        }
        let raw = try await harness.raw()
        try await raw.send("GET /r HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try await raw.readResponse()
        #expect(response.status == 200)
        #expect(response.header("content-length") == "2")
        #expect(response.header("close") == nil, "a header named in Connection crossed the proxy")
        #expect(response.bodyString == "ok")
        // The client connection is still usable: the response was framed.
        try await raw.send("GET /again HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try await raw.readResponse().status == 200)
        await harness.stop()
    }

    /// A client that sends `Connection: close` gets its whole response, then
    /// the close: a small one goes with the head in the write the close waits
    /// for; a large one after its head, the close waiting for the flush.
    @Test(
        "a client's Connection: close gets the whole response, then the connection closed",
        arguments: [("small", 64, false), ("large", 300_000, false), ("chunked from the app", 5_000, true)])
    func clientConnectionCloseGetsTheWholeResponse(_ name: String, bodyBytes: Int, chunked: Bool) async throws {
        let harness = try await ProxyHarness.start()
        let body = String(repeating: "abcdefghij", count: bodyBytes / 10)
        for fake in harness.replicaA {
            // Under Transfer-Encoding the fake's encoder sends the body as a chunk.
            fake.setBehavior(.respond(status: 200, headers: chunked ? [("Transfer-Encoding", "chunked")] : [], body: body))
        }
        let raw = try await harness.raw()
        try await raw.send("GET /\(name.replacingOccurrences(of: " ", with: "-")) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let response = try await raw.readResponse()
        #expect(response.status == 200)
        #expect(response.header("connection")?.lowercased() == "close")
        #expect(response.bodyString == body)
        #expect(response.header("transfer-encoding")?.lowercased() == (chunked ? "chunked" : nil))
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        await harness.stop()
    }
}
