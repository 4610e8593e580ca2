import NIOCore
import NIOEmbedded
import Testing

@testable import HTTPProxy

/// The per-loop sweep behind `clients.header_timeout`, `clients.idle_timeout` and `upstream.response_timeout`
/// (one timer per event loop, not per connection), on virtual time.
@Suite("ClientTimeoutSweep: one timer per loop for every connection's header, idle and response timeouts")
struct ClientTimeoutSweepTests {
    private static let headerTimeout = TimeAmount.seconds(1)
    private static let idleTimeout = TimeAmount.seconds(2)

    /// Drives a connection's timeouts the way ProxyServerHandler does: started
    /// when the channel is active, stopped when it goes.
    private final class Host: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let timeouts: ClientConnectionTimeouts
        /// `ResponseDeadlineCheck`s received.
        var deadlineChecks = 0

        init(_ timeouts: ClientConnectionTimeouts) {
            self.timeouts = timeouts
        }

        func channelActive(context: ChannelHandlerContext) {
            self.timeouts.start(context: context)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.timeouts.bytesArrived()
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.timeouts.stop()
            context.fireChannelInactive()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ResponseDeadlineCheck {
                self.deadlineChecks += 1
            }
            context.fireUserInboundEventTriggered(event)
        }
    }

    private static func connection(
        on loop: EmbeddedEventLoop, sweep: ClientTimeoutSweep, responseTimeout: TimeAmount = .hours(1)
    ) throws -> (channel: EmbeddedChannel, timeouts: ClientConnectionTimeouts, host: Host) {
        let timeouts = ClientConnectionTimeouts(
            headerTimeout: headerTimeout, idleTimeout: idleTimeout, responseTimeout: responseTimeout, sweep: sweep)
        let channel = EmbeddedChannel(loop: loop)
        let host = Host(timeouts)
        try channel.pipeline.syncOperations.addHandler(host)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, timeouts, host)
    }

    private static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += buffer.readString(length: buffer.readableBytes) ?? ""
        }
        return text
    }

    @Test("a silent connection gets a 408 and is closed, an idle one is closed, one in a request is left alone")
    func eachStateItsLimit() throws {
        let loop = EmbeddedEventLoop()
        let sweep = ClientTimeoutSweep(eventLoop: loop)
        let silent = try Self.connection(on: loop, sweep: sweep)
        let idle = try Self.connection(on: loop, sweep: sweep)
        let busy = try Self.connection(on: loop, sweep: sweep)
        #expect(sweep.count == 3)

        // `idle` answered one request and went idle; `busy` is waiting for its response.
        try idle.channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        idle.timeouts.requestHeadReceived()
        idle.timeouts.responseComplete()
        busy.timeouts.requestHeadReceived()

        loop.advanceTime(by: .milliseconds(999))
        #expect(silent.channel.isActive && idle.channel.isActive && busy.channel.isActive)

        loop.advanceTime(by: .milliseconds(1))
        #expect(try Self.written(silent.channel).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(!silent.channel.isActive)
        #expect(idle.channel.isActive && busy.channel.isActive)
        #expect(sweep.count == 2)

        loop.advanceTime(by: .seconds(1))
        #expect(!idle.channel.isActive)
        #expect(try Self.written(idle.channel).isEmpty, "an idle close sends nothing")
        #expect(sweep.count == 1)

        // A request that takes long is not the client's fault: never timed out here.
        loop.advanceTime(by: .seconds(30))
        #expect(busy.channel.isActive)
        _ = try busy.channel.finish(acceptAlreadyClosed: true)
        #expect(sweep.count == 0)
    }

    @Test("closed connections leave the sweep, and the sweep stops when none are left")
    func membershipFollowsConnections() throws {
        let loop = EmbeddedEventLoop()
        let sweep = ClientTimeoutSweep(eventLoop: loop)
        var channels: [EmbeddedChannel] = []
        for _ in 0..<50 {
            channels.append(try Self.connection(on: loop, sweep: sweep).channel)
        }
        #expect(sweep.count == 50)
        // Close every other one, out of order: the swap-removal keeps the rest registered.
        // (close, not finish: finish also cancels the loop's scheduled tasks, the sweep's among them)
        for index in stride(from: 49, through: 0, by: -2) {
            try channels[index].close().wait()
        }
        #expect(sweep.count == 25)
        // The survivors are all still checked: each gets its 408 at the header timeout.
        loop.advanceTime(by: Self.headerTimeout)
        for index in stride(from: 0, to: 50, by: 2) {
            #expect(!channels[index].isActive, "connection \(index)")
            #expect(try Self.written(channels[index]).hasPrefix("HTTP/1.1 408"))
        }
        #expect(sweep.count == 0)
        // Nothing left to sweep: the timer is not scheduled again.
        #expect(!sweep.isScheduled)
        _ = try Self.connection(on: loop, sweep: sweep)
        #expect(sweep.isScheduled, "a new connection starts it again")
    }

    @Test("a connection waiting for its response is sent a deadline check every eighth of the response timeout, no other one is")
    func responseDeadlineChecks() throws {
        let loop = EmbeddedEventLoop()
        let sweep = ClientTimeoutSweep(eventLoop: loop)
        // response_timeout 800 ms: the sweep runs every 100 ms (under the 1 s header timeout).
        let busy = try Self.connection(on: loop, sweep: sweep, responseTimeout: .milliseconds(800))
        let idle = try Self.connection(on: loop, sweep: sweep)
        busy.timeouts.requestHeadReceived()
        idle.timeouts.requestHeadReceived()
        idle.timeouts.responseComplete()

        loop.advanceTime(by: .milliseconds(99))
        #expect(busy.host.deadlineChecks == 0)
        loop.advanceTime(by: .milliseconds(1))
        #expect(busy.host.deadlineChecks == 1)
        loop.advanceTime(by: .milliseconds(700))
        #expect(busy.host.deadlineChecks == 8)
        #expect(idle.host.deadlineChecks == 0)

        // Answered: no more checks.
        busy.timeouts.responseComplete()
        loop.advanceTime(by: .milliseconds(500))
        #expect(busy.host.deadlineChecks == 8)
        _ = try busy.channel.finish(acceptAlreadyClosed: true)
        _ = try idle.channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a connection that arrives between two sweeps gets its full limit")
    func lateArrivalGetsItsFullLimit() throws {
        let loop = EmbeddedEventLoop()
        let sweep = ClientTimeoutSweep(eventLoop: loop)
        let early = try Self.connection(on: loop, sweep: sweep)
        loop.advanceTime(by: .milliseconds(600))
        let late = try Self.connection(on: loop, sweep: sweep)
        loop.advanceTime(by: .milliseconds(400))  // the first sweep: early is due, late has had 0.4 s
        #expect(!early.channel.isActive)
        #expect(late.channel.isActive)
        loop.advanceTime(by: .milliseconds(600))  // late has had 1.0 s, but the next sweep is at 2.0 s
        #expect(late.channel.isActive, "limits are enforced between 1x and 2x, like nginx's coarse timers")
        loop.advanceTime(by: .milliseconds(400))
        #expect(!late.channel.isActive)
        #expect(try Self.written(late.channel).hasPrefix("HTTP/1.1 408"))
    }
}
