import HTTPProxy
import SwitchyardCore
import SwitchyardLogging
import SwitchyardTestSupport
import Testing

@Suite("Proxy: read-your-writes pins (ttl mode)")
struct PinTests {
    @Test func aWritePinsTheClientsReadsToThePrimary() async throws {
        let harness = try await ProxyHarness.start()
        let jar = CookieJar()
        let client = harness.client(cookies: jar)
        let write = try await client.post("/items", body: "x")
        let setCookie = write.header("set-cookie") ?? ""
        #expect(setCookie.hasPrefix("switchyard_pin="))
        #expect(setCookie.hasSuffix("; Max-Age=10; Path=/; HttpOnly; SameSite=Lax"))
        for _ in 0..<5 {
            let read = try await client.get("/items/1")
            #expect(["p1", "p2"].contains(read.header("x-app-server") ?? ""))
            #expect(read.header("set-cookie") == nil)  // pinned reads do not refresh the cookie
        }
        // Another client without the cookie still reads from the replicas.
        let other = try await harness.client().get("/items/1")
        #expect(["a1", "a2"].contains(other.header("x-app-server") ?? ""))
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == 7 }
        let lines = harness.decisionLines
        #expect(lines[1]["reason"] == "pinned")
        #expect(lines[1]["pin"] == "valid")
        #expect(lines[6]["reason"] == "read")
        await harness.stop()
    }

    @Test func tamperedGarbageAndExpiredPinsAreIgnored() async throws {
        let harness = try await ProxyHarness.start()
        let signer = PinSigner(key: ProxyHarness.pinKey)
        let now = WallClock.nowMillis()
        let valid = signer.sign(PinToken(issuedAtMillis: now))
        let tampered = String(valid.dropLast()) + (valid.hasSuffix("A") ? "B" : "A")
        let expired = signer.sign(PinToken(issuedAtMillis: now - 10_001))
        let otherKey = PinSigner(key: Array("another".utf8)).sign(PinToken(issuedAtMillis: now))
        let cases: [(String, String)] = [
            (tampered, "invalid"), ("garbage", "invalid"), (expired, "expired"), (otherKey, "invalid"), ("", "none"),
            (String(repeating: "A", count: 5000), "invalid"),
        ]
        let client = harness.client()
        for (value, _) in cases {
            let response = try await client.get("/items", headers: [("Cookie", "a=b; switchyard_pin=\(value); c=d")])
            #expect(response.status == 200)
            #expect(["a1", "a2"].contains(response.header("x-app-server") ?? ""))
        }
        let pinned = try await client.get("/items", headers: [("Cookie", "switchyard_pin=\(valid)")])
        #expect(["p1", "p2"].contains(pinned.header("x-app-server") ?? ""))
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == cases.count + 1 }
        let pins = harness.decisionLines.map { $0["pin"] ?? "" }
        #expect(pins == cases.map(\.1) + ["valid"])
        await harness.stop()
    }

    @Test func appHeadersControlThePinAndNeverReachTheClient() async throws {
        let harness = try await ProxyHarness.start()
        for fake in harness.primaries {
            fake.setBehavior(.respond(status: 200, headers: [("X-Switchyard-Pin", "none")], body: "nothing changed"))
        }
        for fake in harness.replicaA {
            fake.setBehavior(.respond(status: 200, headers: [("X-Switchyard-Pin", "force"), ("X-Switchyard-LSN", "0/3000148")], body: "a GET that wrote"))
        }
        let client = harness.client()
        let write = try await client.post("/noop", body: "")
        #expect(write.header("set-cookie") == nil)
        #expect(write.header("x-switchyard-pin") == nil)
        let read = try await client.get("/counter")
        #expect(read.header("set-cookie")?.hasPrefix("switchyard_pin=") == true)
        #expect(read.header("x-switchyard-pin") == nil)
        #expect(read.header("x-switchyard-lsn") == nil)
        await harness.stop()
    }

    @Test func twoInstancesSharingTheSecretHonourEachOthersPins() async throws {
        let first = try await ProxyHarness.start()
        let second = try await ProxyHarness.start()
        let jar = CookieJar()
        _ = try await first.client(cookies: jar).post("/items", body: "x")
        let read = try await second.client(cookies: jar).get("/items/1")
        #expect(["p1", "p2"].contains(read.header("x-app-server") ?? ""))
        await first.stop()
        await second.stop()
    }
}

/// A primary position source that answers from another thread after a short delay.
final class DelayedPositionSource: PrimaryPositionSource {
    let position: LSN?

    init(position: LSN?) {
        self.position = position
    }

    func requestInsertPosition(_ completion: @escaping @Sendable (LSN?) -> Void) {
        let position = self.position
        Task.detached {
            try? await Task.sleep(for: .milliseconds(30))
            completion(position)
        }
    }
}

@Suite("Proxy: pins in lsn mode")
struct LSNPinTests {
    static func harness(source: DelayedPositionSource) async throws -> ProxyHarness {
        try await ProxyHarness.start(positionSource: source) { $0.pin.mode = .lsn }
    }

    static func token(_ response: TestResponse) throws -> PinToken {
        let cookie = try #require(response.header("set-cookie"))
        let value = try #require(cookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last)
        guard case .valid(let token) = PinSigner(key: ProxyHarness.pinKey).verify(value, nowMillis: WallClock.nowMillis(), ttlMillis: 10_000)
        else {
            Issue.record("pin cookie does not verify: \(cookie)")
            throw PinCookieError()
        }
        return token
    }

    struct PinCookieError: Error {}

    @Test func theWritesPinCarriesThePrimaryPosition() async throws {
        let harness = try await Self.harness(source: DelayedPositionSource(position: LSN(0x3000148)))
        let write = try await harness.client().post("/items", body: "x")
        #expect(write.status == 200)
        #expect(try Self.token(write).lsn == LSN(0x3000148))
        await harness.stop()
    }

    @Test func aConnectionWhoseResponseWasHeldForItsPinIsReusable() async throws {
        // Regression: reads held while the position was fetched stayed held once
        // the connection was back in the pool, so the next request on it hung.
        let harness = try await Self.harness(source: DelayedPositionSource(position: LSN(7)))
        let client = harness.client()
        for _ in 0..<6 {
            let write = try await client.post("/items", body: "x")
            #expect(write.status == 200)
        }
        #expect(harness.primaries.map(\.connectionCount) == [1, 1])
        await harness.stop()
    }

    @Test func theAppsOwnPositionWinsAndSkipsTheQuery() async throws {
        let harness = try await Self.harness(source: DelayedPositionSource(position: LSN(1)))
        for fake in harness.primaries {
            fake.setBehavior(.respond(status: 201, headers: [("X-Switchyard-LSN", "0/5000000")], body: "made"))
        }
        let write = try await harness.client().post("/items", body: "x")
        #expect(write.status == 201)
        #expect(write.header("x-switchyard-lsn") == nil)
        #expect(try Self.token(write).lsn == LSN(0x5000000))
        await harness.stop()
    }

    @Test func anUnreachablePrimaryGivesAPinWithoutPosition() async throws {
        let harness = try await Self.harness(source: DelayedPositionSource(position: nil))
        let write = try await harness.client().post("/items", body: "x")
        #expect(try Self.token(write).lsn == nil)
        await harness.stop()
    }

    @Test func anAppThatClosesAfterItsResponseStillGetsItsPinnedResponseWhole() async throws {
        let harness = try await Self.harness(source: DelayedPositionSource(position: LSN(42)))
        for fake in harness.primaries {
            fake.setBehavior(.respond(status: 201, headers: [("Connection", "close")], body: "created and closed"))
        }
        let write = try await harness.client().post("/items", body: "x")
        #expect(write.status == 201)
        #expect(write.bodyString == "created and closed")
        #expect(try Self.token(write).lsn == LSN(42))
        await harness.stop()
    }

    @Test func aPinnedReadGoesToAReplicaThatHasReplayedThePin() async throws {
        let harness = try await Self.harness(source: DelayedPositionSource(position: LSN(1000)))
        let jar = CookieJar()
        let client = harness.client(cookies: jar)
        _ = try await client.post("/items", body: "x")
        harness.runtime.publish(board: ReplicaStatusBoard(entries: ["replica-a": .init(inRotation: true, replayLSN: LSN(999))]))
        let behind = try await client.get("/items/1")
        #expect(["p1", "p2"].contains(behind.header("x-app-server") ?? ""))
        harness.runtime.publish(board: ReplicaStatusBoard(entries: ["replica-a": .init(inRotation: true, replayLSN: LSN(1000))]))
        let caughtUp = try await client.get("/items/1")
        #expect(["a1", "a2"].contains(caughtUp.header("x-app-server") ?? ""))
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == 3 }
        #expect(harness.decisionLines.map { $0["reason"] ?? "" } == ["write", "pinned", "pin-caught-up"])
        await harness.stop()
    }
}
