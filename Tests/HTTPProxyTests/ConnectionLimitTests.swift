import SwitchyardTestSupport
import Testing

@testable import HTTPProxy

/// `clients.max_connections` (SPEC: "past this, new connections wait in the
/// listen backlog"): the listener stops accepting at the limit and accepts
/// again as connections close.
@Suite("Proxy: clients.max_connections", .serialized)
struct ConnectionLimitTests {
    @Test("past the limit a connection waits unaccepted while the others are served, and is served once one closes")
    func waitsInTheBacklogUntilOneCloses() async throws {
        let harness = try await ProxyHarness.start { $0.clients.maxConnections = 2 }
        let first = try await harness.raw()
        let second = try await harness.raw()
        for (client, path) in [(first, "/first"), (second, "/second")] {
            try await client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
        }
        #expect(harness.server.connectionCount == 2)

        // The kernel completes the handshake (the listen backlog); Switchyard does not accept it.
        let third = try await harness.raw()
        try await third.send("GET /third HTTP/1.1\r\nHost: t\r\n\r\n")
        // The connections already open keep being served meanwhile.
        for (client, path) in [(first, "/first-again"), (second, "/second-again")] {
            try await client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
        }
        #expect(harness.server.connectionCount == 2)
        #expect(!harness.allServers.contains { $0.requests.contains { $0.path == "/third" } })

        // A close makes room: the waiting connection is accepted and its request answered.
        second.close()
        let response = try await third.readResponse()
        #expect(response.status == 200)
        #expect(harness.allServers.contains { $0.requests.contains { $0.path == "/third" } })
        #expect(harness.server.connectionCount == 2)

        first.close()
        third.close()
        try await eventually("every connection uncounted once closed", timeout: .seconds(10)) { harness.server.connectionCount == 0 }
        await harness.stop()
    }

    @Test("connections closed by the proxy itself (a malformed request) are uncounted too")
    func rejectedConnectionsAreUncounted() async throws {
        let harness = try await ProxyHarness.start { $0.clients.maxConnections = 1 }
        for _ in 0..<3 {
            let client = try await harness.raw()
            try await client.send("NOT HTTP\r\n\r\n")
            #expect(try await client.readResponse().status == 400)
            #expect(await client.isClosedByPeer(within: .seconds(10)))
            try await eventually("the rejected connection uncounted", timeout: .seconds(10)) { harness.server.connectionCount == 0 }
        }
        // With a limit of one, the next connection is still accepted and served.
        let normal = try await harness.client().get("/after")
        #expect(normal.status == 200)
        await harness.stop()
    }
}
