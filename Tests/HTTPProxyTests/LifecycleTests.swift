import HTTPProxy
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Proxy: active health checks, drain, reload, logfmt")
struct LifecycleTests {
    @Test func theActiveCheckTakesAServerOutAndPutsItBack() async throws {
        let harness = try await ProxyHarness.start { configuration in
            configuration.upstream.healthCheck = HealthCheckConfiguration(path: "/healthz", interval: .milliseconds(100), timeout: .seconds(3))
        }
        let sick = harness.replicaA[0]
        sick.setBehavior(.respond(status: 500, body: "db down"), forPath: "/healthz")
        let state = try #require(harness.runtime.snapshot.replicaServers.first?.first)
        try await eventually("a1 marked down", timeout: .seconds(5)) { !state.activeCheckPassing }
        sick.clearRecordedRequests()
        let client = harness.client()
        for _ in 0..<10 {
            let response = try await client.get("/items")
            #expect(response.header("x-app-server") == "a2")
        }
        #expect(sick.requests.allSatisfy { $0.path == "/healthz" })
        sick.setBehavior(nil, forPath: "/healthz")
        try await eventually("a1 back", timeout: .seconds(5)) { state.activeCheckPassing }
        var servedBy: Set<String> = []
        for _ in 0..<4 {
            servedBy.insert(try await client.get("/items").header("x-app-server") ?? "")
        }
        #expect(servedBy == ["a1", "a2"])
        await harness.stop()
    }

    @Test func drainLetsTheRequestInFlightFinishAndRefusesNewConnections() async throws {
        let harness = try await ProxyHarness.start()
        for fake in harness.replicaA {
            fake.setBehavior(.delay(.milliseconds(400), then: .echo))
        }
        let raw = try await harness.raw()
        try await raw.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        try await eventually("request reached the app", timeout: .seconds(5)) { harness.replicaRequests == 1 }
        let drained = Task { await harness.server.drain(timeout: .seconds(5)) }
        let response = try await raw.readResponse()
        #expect(response.status == 200)
        #expect(response.header("connection")?.lowercased() == "close")
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        await drained.value
        await #expect(throws: (any Error).self) {
            _ = try await RawHTTPClient.connect(port: harness.port)
        }
        await harness.stop()
    }

    @Test func aReloadAppliesToNewRequests() async throws {
        let harness = try await ProxyHarness.start()
        let client = harness.client()
        #expect(["a1", "a2"].contains(try await client.get("/r").header("x-app-server") ?? ""))
        var next = harness.runtime.snapshot.configuration
        next.routing.rules = [RoutingRule(name: "all-primary", match: RuleMatch(pathPrefix: "/"), route: .primary)]
        next.log.format = .logfmt
        harness.runtime.apply(configuration: next)
        #expect(["p1", "p2"].contains(try await client.get("/r").header("x-app-server") ?? ""))
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == 2 }
        let logfmt = harness.decisions.lines[1]
        #expect(logfmt.hasPrefix("ts="))
        #expect(logfmt.contains(" msg=route method=GET path=/r client=127.0.0.1 route=primary reason=rule:all-primary "))
        await harness.stop()
    }
}
