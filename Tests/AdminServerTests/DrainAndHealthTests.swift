import AdminServer
import Testing

@Suite("Admin: drain, undrain and /healthz")
struct DrainAndHealthTests {
    @Test func drainAndUndrainCallTheBackend() async throws {
        let harness = try await AdminHarness.start()
        let client = harness.client()
        let drained = try await client.post("/replicas/replica-a/drain")
        #expect(drained.status == 200)
        #expect(drained.header("Content-Type") == "application/json")
        let drainedBody = try JSONHelpers.object(drained)
        #expect(Set(drainedBody.keys) == ["replica", "drained"])
        #expect(drainedBody["replica"] as? String == "replica-a")
        #expect(drainedBody["drained"] as? Bool == true)
        #expect(harness.backend.state.withLock { $0.drained } == ["replica-a"])

        let undrained = try await client.post("/replicas/replica-a/undrain")
        #expect(undrained.status == 200)
        let undrainedBody = try JSONHelpers.object(undrained)
        #expect(Set(undrainedBody.keys) == ["replica", "drained"])
        #expect(undrainedBody["replica"] as? String == "replica-a")
        #expect(undrainedBody["drained"] as? Bool == false)
        #expect(harness.backend.state.withLock { $0.drained }.isEmpty)
        #expect(harness.backend.state.withLock { $0.calls } == ["drain replica-a", "undrain replica-a"])
        await harness.stop()
    }

    @Test(arguments: ["drain", "undrain"])
    func anUnknownReplicaIs404(action: String) async throws {
        let harness = try await AdminHarness.start()
        let response = try await harness.client().post("/replicas/nope/\(action)")
        #expect(response.status == 404)
        let body = try JSONHelpers.object(response)
        #expect(body["replica"] as? String == "nope")
        #expect(body["error"] as? String == "unknown replica")
        #expect(harness.backend.state.withLock { $0.drained }.isEmpty)
        await harness.stop()
    }

    @Test(arguments: ["GET", "PUT", "DELETE"])
    func otherMethodsAre405(method: String) async throws {
        let harness = try await AdminHarness.start()
        let response = try await harness.client().request(method: method, path: "/replicas/replica-a/drain")
        #expect(response.status == 405)
        #expect(response.header("Allow") == "POST")
        #expect(harness.backend.state.withLock { $0.calls }.isEmpty)
        await harness.stop()
    }

    @Test func malformedReplicaPathsAre404() async throws {
        let harness = try await AdminHarness.start()
        let client = harness.client()
        for path in ["/replicas//drain", "/replicas/replica-a/drain/", "/replicas/replica-a/stop", "/replicas/replica-a", "/replicas"] {
            #expect(try await client.post(path).status == 404, "\(path)")
        }
        #expect(harness.backend.state.withLock { $0.calls }.isEmpty)
        await harness.stop()
    }

    @Test func aCrossOriginPostIsRefused() async throws {
        let harness = try await AdminHarness.start()
        let client = harness.client()
        let foreign = try await client.post("/replicas/replica-a/drain", headers: [("Origin", "https://evil.example")])
        #expect(foreign.status == 403)
        let opaque = try await client.post("/replicas/replica-a/drain", headers: [("Origin", "null")])
        #expect(opaque.status == 403)
        #expect(harness.backend.state.withLock { $0.calls }.isEmpty)
        // The dashboard's own page (same host:port) may.
        let sameOrigin = try await client.post(
            "/replicas/replica-a/drain", headers: [("Origin", "http://127.0.0.1:\(harness.port)")])
        #expect(sameOrigin.status == 200)
        await harness.stop()
    }

    @Test func healthzIs200WhileServingAnd503WhileShuttingDown() async throws {
        let harness = try await AdminHarness.start()
        let client = harness.client()
        let serving = try await client.get("/healthz")
        #expect(serving.status == 200)
        #expect(serving.bodyString == "ok\n")
        harness.backend.state.withLock { $0.shuttingDown = true }
        let draining = try await client.get("/healthz")
        #expect(draining.status == 503)
        #expect(draining.bodyString == "shutting down\n")
        // The rest keeps answering while the proxy drains.
        #expect(try await client.get("/status").status == 200)
        #expect(try await client.request(method: "HEAD", path: "/healthz").status == 503)
        #expect(try await client.post("/healthz").status == 405)
        await harness.stop()
    }
}
