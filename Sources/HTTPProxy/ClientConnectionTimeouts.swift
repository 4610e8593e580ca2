import NIOCore

/// Sits before the HTTP decoder and enforces `clients.header_timeout` (a
/// request head must arrive within it, counted from the connection's start
/// or from the first byte after an idle period) and `clients.idle_timeout`
/// (an idle keep-alive connection is closed). Slow-loris clients get a 408
/// and a closed connection.
///
/// Cheap on the request path: no timer is scheduled or cancelled per request.
/// One check per connection runs every `min(header_timeout, idle_timeout)` and
/// compares the time spent in the current state with its limit, so a limit is
/// enforced between 1× and 2× its value (nginx's timers are coarse the same way).
final class ClientConnectionTimeouts: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHead
        case inRequest
        case idle
    }

    private let headerTimeout: Int64
    private let idleTimeout: Int64
    private let period: TimeAmount
    private var state = State.awaitingHead
    private var since = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var closing = false

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout.nanoseconds
        self.idleTimeout = idleTimeout.nanoseconds
        self.period = .nanoseconds(max(1_000_000, min(headerTimeout.nanoseconds, idleTimeout.nanoseconds)))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.start(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .idle = self.state {
            self.state = .awaitingHead
            self.since = NIODeadline.now()
        }
        context.fireChannelRead(data)
    }

    // Called directly by the connection's ProxyServerHandler (same channel, same
    // loop): a user event per request would box it in an existential and cast it back.

    /// A request head arrived: the header timeout no longer applies.
    func requestHeadReceived() {
        self.state = .inRequest
    }

    /// The response was sent: the connection is idle from now.
    func responseComplete() {
        self.state = .idle
        self.since = NIODeadline.now()
    }

    private func start(context: ChannelHandlerContext) {
        guard self.timer == nil else { return }
        self.state = .awaitingHead
        self.since = NIODeadline.now()
        self.schedule(context: context)
    }

    private func stop() {
        self.timer?.cancel()
        self.timer = nil
    }

    private func schedule(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        // A strong capture (no side table for the handler); cancelled when the channel goes.
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: self.period) {
            self.timer = nil
            self.check(context: bound.value)
        }
    }

    private func check(context: ChannelHandlerContext) {
        guard !self.closing, context.channel.isActive else { return }
        let elapsed = (NIODeadline.now() - self.since).nanoseconds
        switch self.state {
        case .awaitingHead where elapsed >= self.headerTimeout:
            self.closing = true
            var buffer = context.channel.allocator.buffer(capacity: 96)
            buffer.writeString("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            context.writeAndFlush(self.wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .idle where elapsed >= self.idleTimeout:
            self.closing = true
            context.close(promise: nil)
        case .awaitingHead, .idle, .inRequest:
            self.schedule(context: context)
        }
    }
}
