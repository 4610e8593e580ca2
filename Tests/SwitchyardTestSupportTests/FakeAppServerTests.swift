import Synchronization
import SwitchyardTestSupport
import Testing

@Suite("FakeAppServer behaviors over real sockets")
struct FakeAppServerTests {
    @Test func echoRoundTripWithKeepAlive() async throws {
        let server = try await FakeAppServer.start(name: "echo-app")
        let client = TestHTTPClient(port: server.port)

        let first = try await client.request(
            method: "GET",
            path: "/things?id=7",
            headers: [("X-Test", "a"), ("X-Test", "b"), ("Accept", "*/*")]
        )
        #expect(first.status == 200)
        #expect(first.header("x-app-server") == "echo-app")
        #expect(first.header("Content-Type") == "application/json")
        let echo = try first.echo()
        #expect(echo.server == "echo-app")
        #expect(echo.method == "GET")
        #expect(echo.uri == "/things?id=7")
        #expect(echo.headers["x-test"] == "a, b")
        #expect(echo.headers["host"] == "127.0.0.1:\(server.port)")
        #expect(echo.bodyBytes == 0)

        let second = try await client.request(method: "POST", path: "/submit", body: "hello world")
        #expect(second.status == 200)
        #expect(try second.echo().bodyBytes == 11)
        #expect(try second.echo().method == "POST")

        // Both requests travelled over one TCP connection.
        #expect(client.connectionsOpened == 1)
        #expect(server.connectionCount == 1)
        #expect(server.requestCount == 2)

        let recorded = server.requests
        #expect(recorded.map(\.method) == ["GET", "POST"])
        #expect(recorded[0].path == "/things")
        #expect(recorded[0].headers(named: "X-Test") == ["a", "b"])
        #expect(recorded[1].bodyString == "hello world")
        #expect(recorded[1].bodyBytes == 11)
        #expect(recorded.allSatisfy { $0.isComplete && $0.connectionID == 1 })

        client.close()
        await server.stop()
    }

    @Test func pipelinedRequestsAndHEADOnRawConnection() async throws {
        let server = try await FakeAppServer.start(name: "pipeline-app")
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send(
            "GET /one HTTP/1.1\r\nHost: x\r\n\r\nHEAD /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        let one = try await raw.readResponse()
        let two = try await raw.readResponse(forHeadRequest: true)
        let three = try await raw.readResponse()
        #expect(try one.echo().uri == "/one")
        #expect(two.status == 200)
        #expect(two.body.isEmpty)
        #expect(Int(two.header("Content-Length") ?? "") ?? 0 > 0)
        #expect(try three.echo().uri == "/three")
        #expect(raw.bufferedByteCount == 0)
        #expect(await raw.isClosedByPeer(within: .milliseconds(50)) == false)
        raw.close()
        await server.stop()
    }

    @Test func respondBehaviorPathOverridesAndChunkedFraming() async throws {
        let server = try await FakeAppServer.start(
            name: "respond-app",
            behavior: .respond(status: 503, headers: [("Retry-After", "1"), ("X-Dup", "1"), ("X-Dup", "2")], body: "busy")
        )
        server.setBehavior(.respond(status: 200, headers: [("Transfer-Encoding", "chunked")], body: "hello"), forPath: "/chunked")
        let client = TestHTTPClient(port: server.port)

        let busy = try await client.get("/anything")
        #expect(busy.status == 503)
        #expect(busy.bodyString == "busy")
        #expect(busy.header("retry-after") == "1")
        #expect(busy.headers(named: "x-dup") == ["1", "2"])
        #expect(busy.header("X-App-Server") == "respond-app")
        #expect(busy.header("Content-Length") == "4")

        let chunked = try await client.get("/chunked?q=1")
        #expect(chunked.status == 200)
        #expect(chunked.header("Transfer-Encoding") == "chunked")
        #expect(chunked.bodyString == "hello")

        server.setBehavior(.respond(status: 204))
        let empty = try await client.get("/x")
        #expect(empty.status == 204)
        #expect(empty.body.isEmpty)

        server.setBehavior(.echo)
        #expect(try await client.get("/y").echo().uri == "/y")
        #expect(client.connectionsOpened == 1)
        await server.stop()
    }

    @Test func download64MiBIsCountedNotHeld() async throws {
        let size = 64 * 1024 * 1024
        let server = try await FakeAppServer.start(name: "download-app", behavior: .download(bytes: size))
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        let (head, count) = try await raw.readResponseDiscardingBody()
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "\(size)")
        #expect(head.header("X-App-Server") == "download-app")
        #expect(head.body.isEmpty)
        #expect(count == size)

        // The connection stays usable after a large body.
        server.setBehavior(.download(bytes: 300))
        try await raw.send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
        let small = try await raw.readResponse()
        #expect(small.body.count == 300)
        #expect(small.body == (0..<300).map { UInt8(truncatingIfNeeded: $0) })
        raw.close()
        await server.stop()
    }

    @Test func downloadRespectsBackpressure() async throws {
        let size = 64 * 1024 * 1024
        let server = try await FakeAppServer.start(name: "slow-reader-app", behavior: .download(bytes: size))
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")

        // The client reads nothing: the server must stop once the socket buffers are full.
        try await eventually("server stops writing while the client does not read", timeout: .seconds(10)) {
            let before = server.responseBodyBytesWritten
            try await Task.sleep(for: .milliseconds(150))
            return before > 0 && server.responseBodyBytesWritten == before
        }
        let stalledAt = server.responseBodyBytesWritten
        #expect(stalledAt < 32 * 1024 * 1024, "server wrote \(stalledAt) bytes without the client reading")

        let (_, count) = try await raw.readResponseDiscardingBody()
        #expect(count == size)
        #expect(server.responseBodyBytesWritten == size)
        raw.close()
        await server.stop()
    }

    @Test func resetMidResponseIsAShortRead() async throws {
        let server = try await FakeAppServer.start(name: "reset-app", behavior: .resetMidResponse(afterBytes: 1000))
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let error = await #expect(throws: RawHTTPClientError.self) {
            try await raw.readResponse()
        }
        guard case .truncatedBody(let truncated) = error else {
            Issue.record("expected a truncated body, got \(String(describing: error))")
            return
        }
        #expect(truncated.cause == .reset)
        #expect(truncated.expectedBytes == 1000 + FakeAppServer.Behavior.resetMidResponseMissingBytes)
        #expect(truncated.receivedBytes == 1000)
        #expect(truncated.response.status == 200)
        #expect(truncated.response.header("X-App-Server") == "reset-app")
        #expect(error?.isConnectionReset == true)
        raw.close()
        await server.stop()
    }

    @Test func resetMidResponseWithDiscardingReader() async throws {
        let server = try await FakeAppServer.start(name: "reset-app-2", behavior: .resetMidResponse(afterBytes: 10_000))
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let error = await #expect(throws: RawHTTPClientError.self) {
            try await raw.readResponseDiscardingBody()
        }
        #expect(error?.isConnectionReset == true)
        if case .truncatedBody(let truncated) = error {
            #expect(truncated.receivedBytes == 10_000)
        }
        await server.stop()
    }

    @Test func hangIsAReceiveTimeout() async throws {
        let server = try await FakeAppServer.start(name: "hang-app", behavior: .hang)
        let raw = try await RawHTTPClient.connect(port: server.port, timeout: .milliseconds(200))
        try await raw.send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: RawHTTPClientError.self) {
            try await raw.readResponse()
        }
        #expect(error?.isTimeout == true)
        #expect(clock.now - started >= .milliseconds(150))
        // The server got the whole request and keeps the connection open.
        try await eventually(timeout: .seconds(10)) { server.lastRequest?.isComplete == true }
        #expect(server.lastRequest?.bodyString == "abc")
        #expect(await raw.isClosedByPeer(within: .milliseconds(50)) == false)
        #expect(server.openConnectionCount == 1)

        // Stopping the server closes hung connections.
        await server.stop()
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
    }

    @Test func closeBeforeResponse() async throws {
        let server = try await FakeAppServer.start(name: "close-app", behavior: .closeBeforeResponse)
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        let error = await #expect(throws: RawHTTPClientError.self) {
            try await raw.readResponse()
        }
        guard case .closedByPeer(_, let received) = error else {
            Issue.record("expected closedByPeer, got \(String(describing: error))")
            return
        }
        #expect(received == 0)
        #expect(await raw.isClosedByPeer(within: .zero))
        #expect(server.requestCount == 1)
        #expect(server.lastRequest?.uri == "/x")
        await server.stop()
    }

    @Test func delayIsScheduledNotBlocking() async throws {
        let server = try await FakeAppServer.start(name: "delay-app", behavior: .delay(.seconds(3), then: .echo))
        server.setBehavior(.echo, forPath: "/fast")
        let slowClient = TestHTTPClient(port: server.port)
        let fastClient = TestHTTPClient(port: server.port)
        let slowDone = Mutex(false)

        let slow = Task {
            let response = try await slowClient.get("/slow")
            slowDone.withLock { $0 = true }
            return response
        }
        // Wait until the slow request is in; then a fast one is answered while the slow one still waits.
        try await eventually(timeout: .seconds(10)) { server.lastRequest?.uri == "/slow" }
        let fast = try await fastClient.get("/fast")
        #expect(fast.status == 200)
        #expect(slowDone.withLock { $0 } == false)
        let slowResponse = try await slow.value
        #expect(slowResponse.status == 200)
        #expect(try slowResponse.echo().uri == "/slow")
        await server.stop()
    }

    @Test func stopWithResetAndRestartOnSamePort() async throws {
        let server = try await FakeAppServer.start(name: "first", behavior: .hang)
        let port = server.port
        let raw = try await RawHTTPClient.connect(port: port)
        try await raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try await eventually(timeout: .seconds(10)) { server.requestCount == 1 }
        await server.stop(resetConnections: true)
        let error = await #expect(throws: RawHTTPClientError.self) {
            try await raw.readResponse()
        }
        #expect(error?.isConnectionReset == true)

        // Nothing listens now.
        await #expect(throws: RawHTTPClientError.self) {
            _ = try await RawHTTPClient.connect(port: port)
        }

        let restarted = try await FakeAppServer.start(name: "second", port: port)
        #expect(restarted.port == port)
        #expect(restarted.address == "127.0.0.1:\(port)")
        let response = try await TestHTTPClient(port: port).get("/")
        #expect(response.header("X-App-Server") == "second")
        await restarted.stop()
    }

    @Test func streamingUploadsAreCountedNotCaptured() async throws {
        let server = try await FakeAppServer.start(name: "upload-app")
        // 8 MiB through a loaded machine (other suites run beside this one): what is
        // checked is the count, so the wait for the answer is generous.
        let raw = try await RawHTTPClient.connect(port: server.port, timeout: .seconds(60))
        let size = 8 * 1024 * 1024
        try await raw.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n")
        try await raw.sendStreamingBody(totalBytes: size)
        let response = try await raw.readResponse()
        #expect(try response.echo().bodyBytes == size)

        try await raw.send("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        try await raw.sendStreamingBody(totalBytes: 100_000, chunk: 7_000, chunkedEncoding: true)
        let chunked = try await raw.readResponse()
        #expect(try chunked.echo().bodyBytes == 100_000)

        let records = server.requests
        #expect(records.count == 2)
        #expect(records[0].bodyBytes == size)
        #expect(records[0].body == nil)
        #expect(records[1].bodyBytes == 100_000)
        #expect(records.allSatisfy { $0.isComplete })
        #expect(server.connectionCount == 1)
        raw.close()
        await server.stop()
    }

    @Test func smallBodiesAreCapturedWithThePattern() async throws {
        let server = try await FakeAppServer.start(name: "capture-app")
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        try await raw.sendStreamingBody(totalBytes: 1000, chunk: 300)
        _ = try await raw.readResponse()
        #expect(server.lastRequest?.body == (0..<1000).map { UInt8(truncatingIfNeeded: $0) })
        await server.stop()
    }

    @Test func malformedRequestGetsA400() async throws {
        let server = try await FakeAppServer.start(name: "strict-app")
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("THIS IS NOT HTTP\r\n\r\n")
        let bytes = try await raw.readUntilClose()
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 400"))
        #expect(server.requestCount == 0)
        await server.stop()
    }

    @Test func abortedUploadIsRecordedIncomplete() async throws {
        let server = try await FakeAppServer.start(name: "abort-app")
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
        try await eventually("request head recorded", timeout: .seconds(10)) { server.requestCount == 1 }
        raw.reset()
        try await eventually("connection gone", timeout: .seconds(10)) { server.openConnectionCount == 0 }
        let record = try #require(server.lastRequest)
        #expect(record.isComplete == false)
        #expect(record.bodyBytes <= 10)
        await server.stop()
    }

    @Test func halfClosedClientStillGetsItsResponse() async throws {
        let server = try await FakeAppServer.start(name: "half-close-app", behavior: .delay(.milliseconds(100), then: .echo))
        let raw = try await RawHTTPClient.connect(port: server.port)
        try await raw.send("GET /half HTTP/1.1\r\nHost: x\r\n\r\n")
        raw.shutdownWrite()
        let response = try await raw.readResponse()
        #expect(try response.echo().uri == "/half")
        // Whether the head says `Connection: close` depends on whether the half-close was
        // seen before the response was built (a race under load); the close itself is not.
        #expect(await raw.isClosedByPeer(within: .seconds(10)))
        await server.stop()
    }

    @Test func unusedPortRefusesConnections() async throws {
        let port = FakeAppServer.unusedPort()
        #expect(port > 0)
        let error = await #expect(throws: RawHTTPClientError.self) {
            _ = try await RawHTTPClient.connect(port: port)
        }
        guard case .connectFailed(_, let failedPort, _) = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(failedPort == port)
    }
}
