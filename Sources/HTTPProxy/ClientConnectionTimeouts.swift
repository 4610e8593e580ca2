import NIOCore

/// Signals from the request handler to the connection's timeout handler,
/// sent as outbound user events.
enum ClientConnectionEvent: Sendable {
    case requestHeadReceived
    case responseComplete
}

/// Sits before the HTTP decoder and enforces `clients.header_timeout` (a
/// request head must arrive within it, counted from the connection's start
/// or from the first byte after an idle period) and `clients.idle_timeout`
/// (an idle keep-alive connection is closed). Slow-loris clients get a 408
/// and a closed connection.
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

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var state = State.awaitingHead
    private var timer: Scheduled<Void>?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.arm(context: context, self.headerTimeout)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.arm(context: context, self.headerTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .idle = self.state {
            self.state = .awaitingHead
            self.arm(context: context, self.headerTimeout)
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? ClientConnectionEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .requestHeadReceived:
            self.state = .inRequest
            self.timer?.cancel()
            self.timer = nil
        case .responseComplete:
            self.state = .idle
            self.arm(context: context, self.idleTimeout)
        }
        promise?.succeed(())
    }

    private func arm(context: ChannelHandlerContext, _ timeout: TimeAmount) {
        self.timer?.cancel()
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        // A strong capture (no side table for the handler); the timer is cancelled when the channel goes.
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.timer = nil
            let context = loopBoundContext.value
            switch self.state {
            case .awaitingHead:
                var buffer = context.channel.allocator.buffer(capacity: 96)
                buffer.writeString("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                context.writeAndFlush(self.wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            case .idle:
                context.close(promise: nil)
            case .inRequest:
                break
            }
        }
    }
}
