@testable import AdminServer
import SwitchyardTestSupport
import Testing

@Suite("Admin: HTTP/1.1 behaviour of the listener")
struct ServerBehaviourTests {
    @Test func keepAliveServesManyRequestsOnOneConnection() async throws {
        let harness = try await AdminHarness.start()
        let client = harness.client()
        for path in ["/healthz", "/status", "/metrics", "/", "/dashboard.json", "/nope", "/healthz"] {
            let response = try await client.get(path)
            #expect(response.status == (path == "/nope" ? 404 : 200), "\(path)")
            #expect(!response.closesConnection, "\(path)")
        }
        #expect(client.connectionsOpened == 1)
        await harness.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let harness = try await AdminHarness.start()
        let raw = try await harness.raw()
        try await raw.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await raw.readResponse().status == 200)
        #expect(try await raw.readResponse().status == 404)
        let status = try await raw.readResponse()
        #expect(status.status == 200)
        #expect(try JSONHelpers.object(status)["version"] as? String == "1.0.0")
        raw.close()
        await harness.stop()
    }

    @Test func http10GetsItsAnswerAndTheConnectionCloses() async throws {
        let harness = try await AdminHarness.start()
        let raw = try await harness.raw()
        try await raw.send("GET /healthz HTTP/1.0\r\n\r\n")
        let response = try await raw.readResponse()
        #expect(response.status == 200)
        #expect(response.closesConnection)
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        raw.close()
        await harness.stop()
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        let harness = try await AdminHarness.start { $0.maxBodyBytes = 1024 }
        let raw = try await harness.raw()
        try await raw.send("POST /replicas/replica-a/drain HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n")
        let response = try await raw.readResponse()
        #expect(response.status == 413)
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        raw.close()
        // Streaming past the limit without a declared length (chunked).
        let chunked = try await harness.raw()
        try await chunked.send("POST /replicas/replica-a/drain HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        // Well past the limit: the rest is read and dropped, so the answer is not lost to a reset.
        try await chunked.sendStreamingBody(totalBytes: 300_000, chunk: 16_384, chunkedEncoding: true)
        let refused = try await chunked.readResponse()
        #expect(refused.status == 413)
        #expect(refused.closesConnection)
        #expect(await chunked.isClosedByPeer(within: .seconds(10)))
        chunked.close()
        #expect(harness.backend.state.withLock { $0.calls }.isEmpty)
        // A small body is fine.
        let small = try await harness.client().post("/replicas/replica-a/drain", body: "{}")
        #expect(small.status == 200)
        await harness.stop()
    }

    @Test func malformedRequestsGet400() async throws {
        let harness = try await AdminHarness.start()
        let raw = try await harness.raw()
        try await raw.send("HELLO\r\n\r\n")
        #expect(try await raw.readResponse().status == 400)
        raw.close()
        #expect(try await harness.client().get("/healthz").status == 200)
        await harness.stop()
    }

    @Test func stopClosesConnectionsAndTheListener() async throws {
        let harness = try await AdminHarness.start()
        let raw = try await harness.raw()
        try await raw.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await raw.readResponse().status == 200)
        await harness.stop()
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        raw.close()
        await #expect(throws: (any Error).self) {
            _ = try await RawHTTPClient.connect(port: harness.port)
        }
    }

    @Test func idleConnectionsAreClosed() async throws {
        // A connection that never sends a request.
        let quick = try await AdminHarness.start { $0.idleTimeout = .milliseconds(200) }
        let silent = try await quick.raw()
        #expect(await silent.isClosedByPeer(within: .seconds(5)))
        silent.close()
        await quick.stop()
        // A kept-alive connection after its response (a timeout long enough for the request to get in first).
        let harness = try await AdminHarness.start { $0.idleTimeout = .milliseconds(1500) }
        let raw = try await harness.raw()
        try await raw.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await raw.readResponse().status == 200)
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        raw.close()
        await harness.stop()
    }

    @Test func queriesArePercentDecodedAndPlusIsKept() {
        let (path, query) = AdminRequest.split(uri: "/dashboard.json?token=a%2Bb+c%3D&x&token=second&bad=%zz")
        #expect(path == "/dashboard.json")
        #expect(query["token"] == "a+b+c=")
        #expect(query["x"] == "")
        #expect(query["bad"] == nil)
        #expect(AdminRequest.split(uri: "/status").query.isEmpty)
    }

    @Test func replicaActionPaths() {
        #expect(AdminRouter.replicaAction("/replicas/replica-a/drain")?.replica == "replica-a")
        #expect(AdminRouter.replicaAction("/replicas/replica-a/drain")?.drain == true)
        #expect(AdminRouter.replicaAction("/replicas/replica_b/undrain")?.drain == false)
        #expect(AdminRouter.replicaAction("/replicas//drain") == nil)
        #expect(AdminRouter.replicaAction("/replicas/a/drain/") == nil)
        #expect(AdminRouter.replicaAction("/replica/a/drain") == nil)
    }

    @Test func crossOriginDetection() {
        func request(host: String?, origin: String?) -> AdminRequest {
            AdminRequest(method: "POST", path: "/replicas/a/drain", host: host, origin: origin)
        }
        #expect(!request(host: "127.0.0.1:9090", origin: nil).isCrossOrigin)
        #expect(!request(host: "127.0.0.1:9090", origin: "http://127.0.0.1:9090").isCrossOrigin)
        #expect(!request(host: "Admin.Local", origin: "http://admin.local").isCrossOrigin)
        #expect(request(host: "127.0.0.1:9090", origin: "http://127.0.0.1:9091").isCrossOrigin)
        #expect(request(host: "127.0.0.1:9090", origin: "null").isCrossOrigin)
        #expect(request(host: nil, origin: "http://127.0.0.1:9090").isCrossOrigin)
    }
}
