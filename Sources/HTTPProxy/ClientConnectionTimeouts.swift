import NIOCore

/// Enforces `clients.header_timeout` (a request head must arrive within it,
/// counted from the connection's start or from the first bytes after an idle
/// period) and `clients.idle_timeout` (an idle keep-alive connection is
/// closed) for one client connection. Slow-loris clients get a 408 and a
/// closed connection. While a request is in flight it sends the connection's
/// pipeline a `ResponseDeadlineCheck` at each sweep: the proxy handler
/// compares its exchange's `upstream.response_timeout` deadline.
///
/// Not a channel handler: the connection's `ProxyServerHandler` tells it what
/// happens (it sees every read through `channelReadComplete`, partial heads
/// included), so the pipeline has one handler less to cross on every read and
/// every idle connection one context less to keep.
///
/// Cheap on the request path: no timer is scheduled or cancelled per request,
/// nor per connection. The event loop's `ClientTimeoutSweep` checks every
/// connection every `min(header_timeout, idle_timeout, response_timeout / 8)`,
/// comparing the time spent in the current state with its limit, so the
/// header and idle limits are enforced between 1× and 2× their value (nginx's
/// timers are coarse the same way) and the response timeout between 1× and
/// 1.125×.
final class ClientConnectionTimeouts {
    private enum State {
        case awaitingHead
        case inRequest
        case idle
    }

    // One per open connection, idle ones included: the narrow fields are
    // declared last, together (stored properties are laid out in order), and
    // the sweep period is computed when asked rather than stored.
    private let headerTimeout: Int64
    private let idleTimeout: Int64
    /// `upstream.response_timeout` when the connection opened (it sets how often the sweep looks).
    private let responseTimeout: Int64
    private let sweep: ClientTimeoutSweep
    private var context: ChannelHandlerContext?
    private var since = NIODeadline.now()
    /// This connection's place in the sweep's list (nil when not registered).
    var sweepIndex: Int?
    private var state = State.awaitingHead
    private var closing = false

    /// How often the sweep must look at this connection.
    var period: TimeAmount {
        .nanoseconds(max(1_000_000, min(self.headerTimeout, self.idleTimeout, self.responseTimeout / 8)))
    }

    /// The connection, while registered with the sweep.
    var channel: (any Channel)? { self.context?.channel }

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, responseTimeout: TimeAmount, sweep: ClientTimeoutSweep) {
        self.headerTimeout = headerTimeout.nanoseconds
        self.idleTimeout = idleTimeout.nanoseconds
        self.responseTimeout = responseTimeout.nanoseconds
        self.sweep = sweep
    }

    /// Bytes arrived that did not complete a request head: from idle, the
    /// header timeout starts counting.
    func bytesArrived() {
        if case .idle = self.state {
            self.state = .awaitingHead
            self.since = self.sweep.now
        }
    }

    /// A request head arrived: the header timeout no longer applies.
    func requestHeadReceived() {
        self.state = .inRequest
    }

    /// The response was sent: the connection is idle from `now` (the loop's clock when not given).
    func responseComplete(now: NIODeadline? = nil) {
        self.state = .idle
        self.since = now ?? self.sweep.now
    }

    /// The connection is active: its timeouts start.
    func start(context: ChannelHandlerContext) {
        guard self.sweepIndex == nil, !self.closing else { return }
        self.context = context
        self.state = .awaitingHead
        self.since = self.sweep.now
        self.sweep.add(self)
    }

    /// The connection is gone (or closing for a timeout).
    func stop() {
        self.sweep.remove(self)
        self.context = nil
    }

    /// Called by the sweep: closes the connection when it has spent too long
    /// waiting for a request head (408 first) or idle.
    func check(now: NIODeadline) {
        guard !self.closing, let context = self.context, context.channel.isActive else { return }
        let elapsed = (now - self.since).nanoseconds
        switch self.state {
        case .awaitingHead where elapsed >= self.headerTimeout:
            self.closing = true
            self.stop()
            var buffer = context.channel.allocator.buffer(capacity: 96)
            buffer.writeString("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            context.writeAndFlush(NIOAny(buffer)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .idle where elapsed >= self.idleTimeout:
            self.closing = true
            self.stop()
            context.close(promise: nil)
        case .inRequest:
            // From the pipeline's head, so it reaches the proxy handler (an
            // empty struct fits an `Any` without an allocation).
            context.pipeline.syncOperations.fireUserInboundEventTriggered(ResponseDeadlineCheck())
        case .awaitingHead, .idle:
            break
        }
    }
}

/// Sent through a client connection's pipeline by the timeout sweep while a
/// request is in flight: the proxy handler checks its response deadline.
struct ResponseDeadlineCheck {}
