import HTTPProxy
import SwitchyardCore
import SwitchyardTestSupport
import Testing

/// HTTP/1.0 clients (curl -0, old load balancers' health checks, ab) cannot
/// read chunked bodies: a response to them is framed by Content-Length or by
/// closing the connection (RFC 9112 §6.1, §6.3).
@Suite("Proxy: HTTP/1.0 clients get bodies they can frame", .serialized)
struct HTTP10ClientTests {
    @Test("an app's chunked response reaches an HTTP/1.0 client unchunked, ended by closing the connection")
    func chunkedAppResponseToHTTP10Client() async throws {
        let harness = try await ProxyHarness.start()
        for fake in harness.replicaA {
            fake.setBehavior(.respond(status: 200, headers: [("Transfer-Encoding", "chunked")], body: "hello, old client"))
        }
        let raw = try await harness.raw()
        try await raw.send("GET /old HTTP/1.0\r\nHost: t\r\n\r\n")
        let bytes = try await raw.readUntilClose()
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        try #require(parts.count >= 2, "no complete head in \(text.debugDescription)")
        let head = parts[0].lowercased()
        #expect(head.hasPrefix("http/1.1 200") || head.hasPrefix("http/1.0 200"), "\(head)")
        #expect(!head.contains("transfer-encoding"), "a chunked body to an HTTP/1.0 client: \(head)")
        #expect(parts.dropFirst().joined(separator: "\r\n\r\n") == "hello, old client")
        await harness.stop()
    }

    @Test("a Content-Length response to an HTTP/1.0 client keeps its length")
    func lengthResponseToHTTP10Client() async throws {
        let harness = try await ProxyHarness.start()
        let raw = try await harness.raw()
        try await raw.send("GET /old HTTP/1.0\r\nHost: t\r\n\r\n")
        let response = try await raw.readResponse()
        #expect(response.status == 200)
        #expect(response.header("transfer-encoding") == nil)
        #expect(response.header("content-length") != nil)
        #expect(try response.echo().uri == "/old")
        await harness.stop()
    }

    @Test("an HTTP/1.0 client that asks for keep-alive gets it confirmed, and a second request on the connection")
    func keepAliveHTTP10Client() async throws {
        let harness = try await ProxyHarness.start()
        let raw = try await harness.raw()
        for path in ["/first", "/second"] {
            try await raw.send("GET \(path) HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n")
            let response = try await raw.readResponse()
            #expect(response.status == 200)
            #expect(response.header("connection")?.lowercased() == "keep-alive")
            #expect(try response.echo().uri == path)
        }
        await harness.stop()
    }

    @Test("a chunked response to an HTTP/1.0 keep-alive client is still ended by closing the connection")
    func chunkedToKeepAliveHTTP10Client() async throws {
        let harness = try await ProxyHarness.start()
        for fake in harness.replicaA {
            fake.setBehavior(.respond(status: 200, headers: [("Transfer-Encoding", "chunked")], body: "streamed"))
        }
        let raw = try await harness.raw()
        try await raw.send("GET /stream HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n")
        let text = String(decoding: try await raw.readUntilClose(), as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        try #require(parts.count >= 2, "no complete head in \(text.debugDescription)")
        #expect(parts[0].lowercased().contains("connection: close"), "\(parts[0])")
        #expect(!parts[0].lowercased().contains("transfer-encoding"))
        #expect(parts.dropFirst().joined(separator: "\r\n\r\n") == "streamed")
        await harness.stop()
    }

    @Test("an HTTP/1.0 request without Host reaches the app with the address the client reached as its Host")
    func hostlessHTTP10Request() async throws {
        let harness = try await ProxyHarness.start()
        let raw = try await harness.raw()
        try await raw.send("GET /nohost HTTP/1.0\r\n\r\n")
        let echo = try await raw.readResponse().echo()
        #expect(echo.uri == "/nohost")
        let host = try #require(echo.headers["host"])
        #expect(host.hasPrefix("127.0.0.1:"), "\(host)")
        await harness.stop()
    }
}
