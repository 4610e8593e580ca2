import HTTPProxy
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Proxy: failover, retries and 502/503/504")
struct FailoverTests {
    @Test func readsSurviveAReplicaServerThatIsDown() async throws {
        let harness = try await ProxyHarness.start()
        await harness.replicaA[1].stop()
        let client = harness.client()
        var failures = 0
        for _ in 0..<50 {
            let response = try await client.get("/items")
            if response.status != 200 { failures += 1 }
        }
        #expect(failures == 0)
        #expect(harness.replicaA[0].requestCount == 50)
        // The dead server was tried once, then taken out (max_fails 1).
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == 50 }
        let attempts = harness.decisionLines.map { Int($0["attempts"] ?? "0") ?? 0 }
        #expect(attempts.filter { $0 == 2 }.count == 1)
        await harness.stop()
    }

    /// Regression (found by the reliability suite): when every server of the
    /// chosen replica fails on a read, that replica counts as not in rotation
    /// (SPEC §3 step 4) and the read falls back to the primary within its
    /// retries, instead of answering 502.
    @Test func aReadWhoseReplicaServersAllFailFallsBackToThePrimary() async throws {
        let harness = try await ProxyHarness.start()
        await harness.replicaA[0].stop()
        await harness.replicaA[1].stop()
        let response = try await harness.client().get("/items")
        #expect(response.status == 200)
        #expect(harness.primaries[0].requestCount + harness.primaries[1].requestCount == 1)
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == 1 }
        let line = try #require(harness.decisionLines.first)
        #expect(line["route"] == "primary")
        #expect(line["reason"] == "no-replica")
        #expect(line["attempts"] == "3")
        await harness.stop()
    }

    /// Under `on_no_replica: fail` the read is not moved to the primary: tries run out, 502.
    @Test func withOnNoReplicaFailTheReadDoesNotFallBack() async throws {
        let harness = try await ProxyHarness.start { $0.routing.onNoReplica = .fail }
        await harness.replicaA[0].stop()
        await harness.replicaA[1].stop()
        let response = try await harness.client().get("/items")
        #expect(response.status == 502)
        #expect(harness.primaries[0].requestCount + harness.primaries[1].requestCount == 0)
        await harness.stop()
    }

    @Test func aGetIsRetriedAfterTheServerDroppedItButAPostIsNot() async throws {
        let harness = try await ProxyHarness.start()
        for fake in harness.primaries + harness.replicaA {
            fake.setBehavior(.closeBeforeResponse)
        }
        harness.replicaA[1].setBehavior(.echo)
        harness.primaries[1].setBehavior(.echo)
        let jar = CookieJar()
        let client = harness.client(cookies: jar)
        // GET: whichever server is picked first, it ends on a2.
        for _ in 0..<4 {
            let read = try await client.get("/items")
            #expect(read.status == 200)
            #expect(read.header("x-app-server") == "a2")
        }
        // POST: the first pick is p1 (round robin), which drops it: 502, never sent to p2.
        let write = try await client.post("/items", body: "payload")
        #expect(write.status == 502)
        #expect(write.bodyString.contains("closed the connection"))
        #expect(harness.primaries[0].requestCount == 1)
        #expect(harness.primaries[1].requestCount == 0)
        // It reached an app server, so it may have committed: the client is pinned.
        #expect(jar["switchyard_pin"] != nil)
        await harness.stop()
    }

    @Test func aPostIsRetriedWhenItWasNeverSent() async throws {
        let harness = try await ProxyHarness.start()
        await harness.primaries[0].stop()
        let jar = CookieJar()
        let response = try await harness.client(cookies: jar).post("/items", body: "payload")
        #expect(response.status == 200)
        #expect(response.header("x-app-server") == "p2")
        #expect(harness.primaries[1].lastRequest?.bodyString == "payload")
        await harness.stop()
    }

    @Test func everyServerDownGives502ThenTheTakenOutPoolGives503() async throws {
        let harness = try await ProxyHarness.start()
        for fake in harness.primaries {
            await fake.stop()
        }
        let jar = CookieJar()
        let client = harness.client(cookies: jar)
        let first = try await client.post("/items", body: "x")
        #expect(first.status == 502)
        #expect(first.bodyString.contains("could not connect"))
        #expect(jar["switchyard_pin"] == nil)  // never reached an app server: no pin
        let second = try await client.post("/items", body: "x")
        #expect(second.status == 503)
        #expect(second.bodyString.contains("pool primary"))
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == 2 }
        #expect(harness.decisionLines[1]["server"] == "null")
        await harness.stop()
    }

    @Test func aHangingServerGives504AndOthersAreUnaffected() async throws {
        let harness = try await ProxyHarness.start { $0.upstream.responseTimeout = .seconds(2) }
        harness.primaries[0].setBehavior(.hang)
        harness.primaries[1].setBehavior(.hang)
        let client = harness.client()
        let slow = try await client.post("/slow", body: "x")
        #expect(slow.status == 504)
        // A response timeout is not retried: exactly one app server ever saw it.
        try await eventually(timeout: .seconds(5)) { harness.primaries[0].requestCount + harness.primaries[1].requestCount >= 1 }
        #expect(harness.primaries[0].requestCount + harness.primaries[1].requestCount == 1)
        let read = try await harness.client().get("/fast")
        #expect(read.status == 200)
        await harness.stop()
    }

    /// The response timer is armed once per client connection and re-armed
    /// lazily: a hang after earlier answered requests on the same keep-alive
    /// connection must still time out, and the connection keep serving.
    @Test func aHangAfterAnsweredRequestsOnTheSameConnectionStillGives504() async throws {
        let harness = try await ProxyHarness.start { $0.upstream.responseTimeout = .seconds(1) }
        harness.primaries[0].setBehavior(.hang)
        harness.primaries[1].setBehavior(.hang)
        let raw = try await harness.raw()
        raw.setTimeout(.seconds(20))
        for index in 0..<3 {
            try await raw.send("GET /fast\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await raw.readResponse().status == 200)
        }
        try await raw.send("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx")
        #expect(try await raw.readResponse().status == 504)
        try await raw.send("GET /after HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try await raw.readResponse().status == 200)
        await harness.stop()
    }

    @Test func aResetMidResponseTruncatesThatResponseOnly() async throws {
        let harness = try await ProxyHarness.start()
        harness.replicaA[0].setBehavior(.resetMidResponse(afterBytes: 1000))
        harness.replicaA[1].setBehavior(.resetMidResponse(afterBytes: 1000))
        let raw = try await harness.raw()
        try await raw.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        let bytes = try await raw.readUntilClose()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200"))
        #expect(bytes.count < 1000 + 66_000)
        // Another client is served normally by the primary.
        let write = try await harness.client().post("/items", body: "x")
        #expect(write.status == 200)
        await harness.stop()
    }
}
