import NIOCore
import NIOEmbedded
import NIOPosix
import SwitchyardCore
import SwitchyardLogging
import SwitchyardTestSupport
import Testing

@testable import HTTPProxy

/// The per-loop recycling on the request path: the upstream keep-alive pools and
/// the buffers request and response heads are written into.
@Suite("Upstream keep-alive pools and recycled head buffers")
struct UpstreamPoolTests {
    @Test("requests on a keep-alive client reach the app on one pooled upstream connection")
    func pooledConnectionIsReused() async throws {
        let harness = try await ProxyHarness.start { configuration in
            configuration.primary.servers.removeLast()  // p1 only
        }
        let client = harness.client()
        for index in 0..<20 {
            #expect(try await client.post("/items/\(index)", body: "x").status == 200)
        }
        let p1 = harness.primaries[0]
        #expect(p1.requestCount == 20)
        #expect(p1.connectionCount == 1)
        #expect(Set(p1.requests.map(\.connectionID)).count == 1)
        await harness.stop()
    }

    @Test("past `keepalive` idle connections a loop closes the oldest")
    func keepaliveLimitClosesTheOldest() async throws {
        let harness = try await ProxyHarness.start { configuration in
            configuration.primary.servers.removeLast()  // p1 only
            configuration.upstream.keepalive = 1
        }
        let p1 = harness.primaries[0]
        // Overlapping requests each need their own upstream connection.
        p1.setBehavior(.delay(.milliseconds(300), then: .echo))
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<4 {
                group.addTask { try await harness.client().post("/slow/\(index)", body: "x").status }
            }
            for try await status in group {
                #expect(status == 200)
            }
        }
        #expect(p1.connectionCount == 4)
        // At most one kept per event loop (the harness runs two).
        try await eventually("idle upstream connections down to the limit", timeout: .seconds(10)) {
            p1.openConnectionCount <= 2
        }
        #expect(p1.openConnectionCount >= 1)
        // A kept one serves the next request.
        p1.setBehavior(.echo)
        #expect(try await harness.client().post("/after", body: "x").status == 200)
        #expect(p1.connectionCount == 4)
        await harness.stop()
    }

    /// On virtual time: the pool's sweep is the loop's repeated task, and how
    /// long a connection has been idle comes from the `now` it was released at.
    @Test("past `keepalive`, released connections stay pooled for a second; then the sweep closes the oldest")
    func pastKeepaliveConnectionsStayForTheGrace() throws {
        let eventLoop = EmbeddedEventLoop()
        let loop = LoopContext(eventLoop: eventLoop, decisionSink: MemoryLogSink())
        let server = UpstreamServerState(address: ServerAddress(host: "127.0.0.1", port: 1), pool: "primary")
        func open() throws -> (channel: EmbeddedChannel, connection: UpstreamConnection) {
            let connection = UpstreamConnection(server: server, pool: loop)
            let channel = EmbeddedChannel(handler: connection, loop: eventLoop)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            return (channel, connection)
        }
        let old = try (0..<2).map { _ in try open() }
        let fresh = try (0..<2).map { _ in try open() }
        let longAgo = NIODeadline.now() - LoopContext.excessIdleGrace - .seconds(1)
        for pooled in old {
            loop.release(pooled.connection, keepalive: 1, idleTimeout: .seconds(60), now: longAgo)
        }
        for pooled in fresh {
            loop.release(pooled.connection, keepalive: 1, idleTimeout: .seconds(60))
        }
        // Four idle with `keepalive: 1`: none closed on release.
        #expect((old + fresh).allSatisfy { $0.channel.isActive })

        // The sweep (every second with a 60 s idle timeout) closes the ones
        // past the limit that have been idle for the grace, oldest first, and
        // keeps the recent ones even though they are past it too.
        eventLoop.advanceTime(by: .seconds(1))
        #expect(old.allSatisfy { !$0.channel.isActive })
        #expect(fresh.allSatisfy { $0.channel.isActive })
        #expect(loop.takeIdle(server) === fresh[1].connection)
        #expect(loop.takeIdle(server) === fresh[0].connection)
        #expect(loop.takeIdle(server) == nil)
        loop.closeIdle()
    }

    @Test("a recycled head buffer is reused in place, and never while someone still holds it")
    func headBuffersAreRecycledSafely() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = LoopContext(eventLoop: group.next(), decisionSink: MemoryLogSink())
        let allocator = ByteBufferAllocator()

        // Nobody else holds it: the same storage comes back, emptied.
        var first = loop.headBuffer(minimumCapacity: 64, allocator: allocator)
        first.writeString("GET /a HTTP/1.1\r\n\r\n")
        let firstAddress = first.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        loop.recycle(first)
        first = ByteBuffer()
        var second = loop.headBuffer(minimumCapacity: 64, allocator: allocator)
        #expect(second.readableBytes == 0)
        second.writeString("GET /b HTTP/1.1\r\n\r\n")
        #expect(second.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == firstAddress)

        // Still held (a write NIO has not finished): the next head gets other storage
        // and the held bytes stay as they were.
        let held = second
        loop.recycle(second)
        second = ByteBuffer()
        var third = loop.headBuffer(minimumCapacity: 64, allocator: allocator)
        third.writeString("POST /c HTTP/1.1\r\n\r\n")
        #expect(held.getString(at: held.readerIndex, length: held.readableBytes) == "GET /b HTTP/1.1\r\n\r\n")
        #expect(third.getString(at: third.readerIndex, length: third.readableBytes) == "POST /c HTTP/1.1\r\n\r\n")

        // Large buffers are not kept.
        loop.recycle(allocator.buffer(capacity: LoopContext.spareHeadBufferCapacity + 1))
        #expect(loop.headBuffer(minimumCapacity: 16, allocator: allocator).capacity <= LoopContext.spareHeadBufferCapacity)
    }
}
