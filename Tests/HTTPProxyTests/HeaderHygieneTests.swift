import HTTPProxy
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Proxy: header hygiene and X-Forwarded-*")
struct HeaderHygieneTests {
    @Test func hopByHopAndSwitchyardHeadersAreRemoved() async throws {
        let harness = try await ProxyHarness.start()
        let response = try await harness.client().get(
            "/h",
            headers: [
                ("Connection", "keep-alive, X-Secret-Hop"), ("X-Secret-Hop", "1"), ("Keep-Alive", "timeout=5"),
                ("TE", "trailers"), ("Proxy-Authorization", "Basic x"), ("X-Switchyard-LSN", "0/1"),
                ("X-Switchyard-Pin", "force"), ("Upgrade", "websocket"), ("X-Kept", "yes"),
            ])
        let echo = try response.echo()
        for removed in ["x-secret-hop", "keep-alive", "te", "proxy-authorization", "x-switchyard-lsn", "x-switchyard-pin", "upgrade"] {
            #expect(echo.headers[removed] == nil, "\(removed) reached the app")
        }
        #expect(echo.headers["x-kept"] == "yes")
        #expect(response.header("set-cookie") == nil)
        await harness.stop()
    }

    @Test func forwardedHeadersAreAddedWhenTheClientSentNone() async throws {
        let harness = try await ProxyHarness.start()
        let response = try await harness.client().get("/h")
        let echo = try response.echo()
        #expect(echo.headers["x-forwarded-for"] == "127.0.0.1")
        #expect(echo.headers["x-forwarded-proto"] == "http")
        #expect(echo.headers["x-forwarded-host"] == "app.test")
        #expect(echo.headers["x-real-ip"] == "127.0.0.1")
        await harness.stop()
    }

    /// Names with underscores never reach the app (nginx's default): a CGI-style
    /// app would read `X_Forwarded_For` as `X-Forwarded-For`.
    @Test func headerNamesWithUnderscoresAreDropped() async throws {
        let harness = try await ProxyHarness.start()
        let response = try await harness.client().get(
            "/h", headers: [("X_Forwarded_For", "6.6.6.6"), ("Transfer_Encoding", "chunked"), ("X-Kept", "yes")])
        let echo = try response.echo()
        #expect(response.status == 200)
        #expect(echo.headers["x_forwarded_for"] == nil)
        #expect(echo.headers["transfer_encoding"] == nil)
        #expect(echo.headers["x-forwarded-for"] == "127.0.0.1")
        #expect(echo.headers["x-kept"] == "yes")
        await harness.stop()
    }

    @Test func forwardedHeadersFromAnUntrustedPeerAreReplaced() async throws {
        let harness = try await ProxyHarness.start()
        let response = try await harness.client().get(
            "/h", headers: [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil"), ("X-Real-IP", "6.6.6.6")])
        let echo = try response.echo()
        #expect(echo.headers["x-forwarded-for"] == "127.0.0.1")
        #expect(echo.headers["x-forwarded-proto"] == "http")
        #expect(echo.headers["x-forwarded-host"] == "app.test")
        #expect(echo.headers["x-real-ip"] == "127.0.0.1")
        await harness.stop()
    }

    @Test func forwardedHeadersFromATrustedPeerAreExtended() async throws {
        let harness = try await ProxyHarness.start { configuration in
            configuration.clients.trustedProxies = [CIDR(parsing: "127.0.0.0/8"), CIDR(parsing: "10.0.0.0/8")].compactMap { $0 }
        }
        let response = try await harness.client().get(
            "/h", headers: [("X-Forwarded-For", "6.6.6.6, 203.0.113.9, 10.1.2.3"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example")])
        let echo = try response.echo()
        #expect(echo.headers["x-forwarded-for"] == "6.6.6.6, 203.0.113.9, 10.1.2.3, 127.0.0.1")
        #expect(echo.headers["x-forwarded-proto"] == "https")
        #expect(echo.headers["x-forwarded-host"] == "shop.example")
        // real_ip_recursive: from the right, the first address not trusted.
        #expect(echo.headers["x-real-ip"] == "203.0.113.9")
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == 1 }
        await harness.stop()
    }
}

@Suite("Proxy: HTTP/1.1 pipelining")
struct PipeliningTests {
    /// Regression (found by the reliability suite): bad bytes pipelined after a
    /// complete write belong to the next request; the write gets the app's
    /// response with its pin, then the bad request its 400.
    @Test func aMalformedPipelinedRequestDoesNotReplaceTheResponseBeforeIt() async throws {
        let harness = try await ProxyHarness.start()
        for fake in harness.primaries { fake.setBehavior(.delay(.milliseconds(200), then: .echo)) }
        let raw = try await harness.raw()
        try await raw.send("POST /first HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd")
        try await eventually(timeout: .seconds(10)) {
            harness.primaries.contains { $0.requests.contains { $0.uri == "/first" && $0.isComplete } }
        }
        try await raw.send("GARBAGE\r\n\r\n")
        let first = try await raw.readResponse()
        #expect(first.status == 200)
        #expect(first.hasHeader("set-cookie"))
        let second = try await raw.readResponse()
        #expect(second.status == 400)
        #expect(await raw.isClosedByPeer(within: .seconds(5)))
        await harness.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let harness = try await ProxyHarness.start()
        harness.replicaA[0].setBehavior(.delay(.milliseconds(100), then: .echo))
        let raw = try await harness.raw()
        var batch = ""
        for index in 0..<5 {
            batch += "GET /p\(index) HTTP/1.1\r\nHost: t\r\n\r\n"
        }
        batch += "POST /w HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
        try await raw.send(batch)
        for index in 0..<5 {
            let response = try await raw.readResponse()
            #expect(response.status == 200)
            #expect(try response.echo().uri == "/p\(index)")
        }
        let write = try await raw.readResponse()
        #expect(try write.echo().uri == "/w")
        #expect(try write.echo().bodyBytes == 3)
        await harness.stop()
    }
}
