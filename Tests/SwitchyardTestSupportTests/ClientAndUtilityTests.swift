import SwitchyardTestSupport
import Synchronization
import Testing

@Suite("TestHTTPClient, CookieJar, eventually and ProcessMemory")
struct ClientAndUtilityTests {
    @Test func cookieJarRoundTrip() async throws {
        let server = try await FakeAppServer.start(
            name: "cookie-app",
            behavior: .respond(
                status: 200,
                headers: [("Set-Cookie", "pin=abc.def; Max-Age=30; Path=/; HttpOnly; SameSite=Lax"), ("Set-Cookie", "other=1")],
                body: "ok"
            )
        )
        let client = TestHTTPClient(port: server.port)
        _ = try await client.post("/write", body: "x")
        #expect(client.cookies["pin"] == "abc.def")
        #expect(client.cookies["other"] == "1")
        let pin = client.cookies.all.first { $0.name == "pin" }
        #expect(pin?.attribute("max-age") == "30")
        #expect(pin?.attribute("HttpOnly") == "")
        #expect(pin?.attribute("Secure") == nil)

        server.setBehavior(.echo)
        let echoed = try await client.get("/read").echo()
        #expect(echoed.headers["cookie"] == "pin=abc.def; other=1")

        // An explicit Cookie header wins over the jar.
        let explicit = try await client.get("/read", headers: [("Cookie", "pin=")]).echo()
        #expect(explicit.headers["cookie"] == "pin=")

        // Max-Age=0 deletes.
        server.setBehavior(.respond(status: 200, headers: [("Set-Cookie", "pin=; Max-Age=0; Path=/")], body: ""))
        _ = try await client.get("/logout")
        #expect(client.cookies["pin"] == nil)
        server.setBehavior(.echo)
        #expect(try await client.get("/read").echo().headers["cookie"] == "other=1")
        #expect(client.connectionsOpened == 1)
        await server.stop()
    }

    @Test func cookieJarExpiresPositiveMaxAge() {
        let jar = CookieJar()
        jar.apply(setCookie: "short=1; Max-Age=-1")
        #expect(jar.isEmpty)
        jar.apply(setCookie: "a=\"quoted\"")
        #expect(jar["a"] == "quoted")
        jar.set("b", "2")
        #expect(jar.cookieHeader == "a=quoted; b=2")
        jar.remove("a")
        #expect(jar.cookieHeader == "b=2")
        jar.removeAll()
        #expect(jar.cookieHeader == nil)
    }

    @Test func clientReconnectsAfterConnectionClose() async throws {
        let server = try await FakeAppServer.start(
            name: "closing-app",
            behavior: .respond(status: 200, headers: [("Connection", "close")], body: "bye")
        )
        let client = TestHTTPClient(port: server.port)
        #expect(try await client.get("/1").bodyString == "bye")
        #expect(try await client.get("/2").bodyString == "bye")
        #expect(client.connectionsOpened == 2)
        #expect(server.connectionCount == 2)

        // A client asking for close gets it, and the next request reconnects.
        server.setBehavior(.echo)
        let asked = try await client.get("/3", headers: [("Connection", "close")])
        #expect(asked.header("Connection") == "close")
        _ = try await client.get("/4")
        #expect(client.connectionsOpened == 4)
        _ = try await client.get("/5")
        #expect(client.connectionsOpened == 4)
        await server.stop()
    }

    @Test func clientReconnectsWhenServerClosedIdleConnection() async throws {
        let server = try await FakeAppServer.start(name: "restart-a")
        let port = server.port
        let client = TestHTTPClient(port: port)
        #expect(try await client.get("/").header("X-App-Server") == "restart-a")
        await server.stop()
        let restarted = try await FakeAppServer.start(name: "restart-b", port: port)
        #expect(try await client.get("/").header("X-App-Server") == "restart-b")
        #expect(client.connectionsOpened == 2)
        await restarted.stop()
    }

    @Test func http10RequestGetsClose() async throws {
        let server = try await FakeAppServer.start(name: "old-app")
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("GET /old HTTP/1.0\r\n\r\n")
        let response = try await raw.readResponse()
        #expect(response.version == "HTTP/1.0")
        #expect(response.closesConnection)
        #expect(try response.echo().uri == "/old")
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        await server.stop()
    }

    @Test func eventuallySucceedsOnceTheConditionHolds() async throws {
        let counter = Mutex(0)
        try await eventually("counter reaches 3", timeout: .seconds(10), pollEvery: .milliseconds(5)) {
            counter.withLock { value in
                value += 1
                return value >= 3
            }
        }
        #expect(counter.withLock { $0 } == 3)
    }

    @Test func eventuallyTimesOutWithADescriptiveError() async throws {
        struct NotYet: Error, CustomStringConvertible {
            var description: String { "still not ready" }
        }
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: EventuallyTimeoutError.self) {
            try await eventually("the impossible", timeout: .milliseconds(150)) {
                throw NotYet()
            }
        }
        let elapsed = clock.now - started
        #expect(elapsed >= .milliseconds(150))
        #expect(error?.attempts ?? 0 >= 2)
        let text = error.map { String(describing: $0) } ?? ""
        #expect(text.contains("the impossible"))
        #expect(text.contains("still not ready"))
        #expect(text.contains("ClientAndUtilityTests.swift"))

        await #expect(throws: EventuallyTimeoutError.self) {
            try await eventually(timeout: .milliseconds(50)) { false }
        }
    }

    @Test func processMemoryFigures() {
        let resident = ProcessMemory.residentBytes()
        #expect(resident > 1024 * 1024)
        #expect(ProcessMemory.peakResidentBytes() >= resident / 2)
        #expect(ProcessMemory.openFileDescriptorCount() >= 3)
    }

    @Test func rawClientParsesByteExactResponses() async throws {
        let server = try await FakeAppServer.start(
            name: "exact-app",
            behavior: .respond(status: 200, headers: [("X-Empty", ""), ("X-Spaces", "  padded  ")], body: "")
        )
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let response = try await raw.readResponse()
        #expect(response.rawHead.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.reason == "OK")
        #expect(response.header("x-empty") == "")
        #expect(response.header("X-Spaces") == "padded")
        #expect(response.hasHeader("content-length"))
        #expect(response.header("Content-Length") == "0")
        #expect(response.body.isEmpty)
        raw.close()
        #expect(raw.isOpen == false)
        await #expect(throws: RawHTTPClientError.self) {
            try await raw.send("GET / HTTP/1.1\r\n\r\n")
        }
        await server.stop()
    }
}
