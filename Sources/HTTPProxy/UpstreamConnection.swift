#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Receives what one upstream connection does. Loop-confined.
protocol UpstreamConnectionDelegate: AnyObject {
    /// Bytes read: the delegate has them parsed (`parse(_:to:_:)`) with its
    /// exchange in hand, looked up once per read rather than once per event.
    func upstream(_ connection: UpstreamConnection, read buffer: consuming ByteBuffer)
    /// What the end of input completes (a body read until close).
    func upstream(_ connection: UpstreamConnection, received event: UpstreamResponseEvent)
    func upstreamReadComplete(_ connection: UpstreamConnection)
    func upstreamBecameWritable(_ connection: UpstreamConnection)
    func upstream(_ connection: UpstreamConnection, closedWith error: (any Error)?)
    /// False while the client side cannot take more (response backpressure).
    func upstreamMayRead(_ connection: UpstreamConnection) -> Bool
}

/// The last handler of an upstream (app server) channel: parses responses
/// (`UpstreamResponseParser`, on bytes) for whichever exchange currently owns
/// the connection, and holds reads while that exchange's client is not
/// writable. Idle in a pool, it has no delegate; anything the server sends
/// then closes the connection. Requests go out as the bytes the proxy handler
/// encoded (no NIO HTTP handlers on this channel).
///
/// An inbound handler only: reads are held by turning the channel's
/// `autoRead` off (`ChannelHandlerContext.setAutoRead`), not by intercepting
/// `read`, which would put the handler on the path of every read NIO asks for.
final class UpstreamConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: UpstreamServerState
    /// Strong on purpose (a weak reference would give the handler a side table
    /// and slow every retain/release of it); cleared whenever the exchange ends,
    /// the connection closes or returns to a pool. The protocol's one
    /// conformer, stored as itself: its methods are called directly rather
    /// than through an existential's witness table.
    var delegate: ProxyServerHandler?
    /// The loop whose pool this connection goes back to between requests
    /// (the loop's context lives as long as its loop). Set once: going into
    /// the pool and out of it costs no retain and release of it.
    let pool: LoopContext
    /// In its pool, idle.
    var isIdle = false
    /// When it went back to its pool.
    var idleSince = NIODeadline.uptimeNanoseconds(0)
    private var context: ChannelHandlerContext?
    /// Reads are held: `autoRead` is off until `resumeReads` turns it on.
    private var pendingRead = false
    private var error: (any Error)?
    private(set) var isClosed = false
    /// Requests served on this connection (the first one is on a fresh connection).
    var requestsServed = 0
    private let parser = UpstreamResponseParser()

    init(server: UpstreamServerState, pool: LoopContext) {
        self.server = server
        self.pool = pool
    }

    var channel: (any Channel)? {
        self.context?.channel
    }

    /// The channel's writability as its last change said (NIO fires the
    /// change in the call that flips it): asked on every `read`, this saves
    /// the trip through the context and the channel to NIO's atomic.
    var isWritable: Bool {
        self.context != nil && self.channelWritable
    }
    private var channelWritable = true

    /// Open and in a pipeline. A pooled connection became active before it
    /// carried its first response, and NIO fires `channelInactive` (which
    /// sets `isClosed`) in the call that closes the channel: no need to ask
    /// the channel, twice per request.
    var isUsable: Bool {
        !self.isClosed && self.context != nil
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        guard let delegate = self.delegate else {
            // An idle connection must not talk: close it.
            context.close(promise: nil)
            return
        }
        delegate.upstream(self, read: buffer)
    }

    /// Parses `buffer`, handing `sink` each event it completes (with
    /// `context`); a protocol error closes the connection (`channelInactive`
    /// then reports it).
    func parse<Sink: UpstreamResponseSink>(_ buffer: consuming ByteBuffer, to sink: Sink, _ context: Sink.Context) {
        do {
            try self.parser.feed(buffer, to: sink, context)
        } catch {
            if let context = self.context {
                self.fail(error, context: context)
            }
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        self.recordFirstError(error)
        context.close(promise: nil)
    }

    /// Keeps the first error: the one the owner is told when the connection closes.
    private func recordFirstError(_ error: any Error) {
        if self.error == nil {
            self.error = error
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.delegate?.upstreamReadComplete(self)
        // NIO asks for the next read right after this returns (`autoRead`):
        // held while the owner's client cannot take more.
        if !self.pendingRead, let delegate = self.delegate, !delegate.upstreamMayRead(self) {
            self.pendingRead = true
            context.setAutoRead(false)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.channelWritable = context.channel.isWritable
        if self.channelWritable {
            self.delegate?.upstreamBecameWritable(self)
        }
        context.fireChannelWritabilityChanged()
    }

    /// Called by the owner when its client became writable again.
    func resumeReads() {
        guard self.pendingRead, let context = self.context else { return }
        self.pendingRead = false
        context.setAutoRead(true)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isClosed = true
        if self.delegate != nil {
            do {
                // A body read until close ends here.
                try self.parser.endOfInput { event in
                    self.delegate?.upstream(self, received: event)
                }
            } catch {
                self.recordFirstError(error)
            }
        }
        if let delegate = self.delegate {
            self.delegate = nil
            delegate.upstream(self, closedWith: self.error)
        } else if self.isIdle {
            self.isIdle = false
            self.pool.remove(self)
        }
        context.fireChannelInactive()
    }

    /// Whether the request body in flight is sent in chunks.
    private var chunkedRequest = false

    /// The request head, held until the first body bytes or the flush: a
    /// request that is only a head then goes with one `writeAndFlush`, one
    /// trip through the pipeline instead of a write and a flush.
    private var unsentHead: ByteBuffer?

    /// Starts a request: its encoded head (see `ClientRequestHead.upstreamHead`).
    func writeHead(_ head: ByteBuffer, isHEAD: Bool, chunked: Bool) {
        self.parser.expectResponse(toHEAD: isHEAD)
        self.chunkedRequest = chunked
        self.unsentHead = head
    }

    private func sendHead(_ context: ChannelHandlerContext) {
        if let head = self.unsentHead.take() {
            context.write(self.wrapOutboundOut(head), promise: nil)
        }
    }

    func writeBody(_ buffer: ByteBuffer) {
        guard let context = self.context else { return }
        self.sendHead(context)
        guard self.chunkedRequest else {
            context.write(self.wrapOutboundOut(buffer), promise: nil)
            return
        }
        guard buffer.readableBytes > 0 else { return }  // an empty chunk would end the body
        context.write(self.wrapOutboundOut(ChunkedFraming.sizeLine(buffer.readableBytes, allocator: context.channel.allocator)), promise: nil)
        context.write(self.wrapOutboundOut(buffer), promise: nil)
        context.write(self.wrapOutboundOut(ChunkedFraming.lineEnd), promise: nil)
    }

    /// Ends the request body; true when that wrote something (the last chunk), which then needs a flush.
    @discardableResult
    func writeEnd() -> Bool {
        guard self.chunkedRequest, let context = self.context else { return false }
        self.sendHead(context)
        context.write(self.wrapOutboundOut(ChunkedFraming.lastChunk), promise: nil)
        return true
    }

    func flush() {
        guard let context = self.context else { return }
        if let head = self.unsentHead.take() {
            context.writeAndFlush(self.wrapOutboundOut(head), promise: nil)
        } else {
            context.flush()
        }
    }

    /// Closes with RST semantics where possible (an aborted request must not look complete).
    func abort() {
        self.delegate = nil
        self.isIdle = false
        self.unsentHead = nil
        guard let context = self.context, !self.isClosed else { return }
        if let provider = context.channel as? any SocketOptionProvider {
            // Already on the loop: the option is set before the close below runs.
            _ = provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
        }
        context.close(promise: nil)
    }

    func close() {
        self.delegate = nil
        self.unsentHead = nil
        self.context?.close(promise: nil)
    }
}
