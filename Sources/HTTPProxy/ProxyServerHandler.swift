import Logging
import NIOCore
import NIOHTTP1
import SwitchyardCore
import SwitchyardLogging

/// The request path for one client connection (SPEC §3-4): decides where each
/// request goes, relays it to an app server over a pooled connection with
/// backpressure both ways, retries, pins writes and logs the decision.
///
/// Everything here runs on the connection's event loop; the upstream
/// connection is opened on that same loop.
///
/// An inbound handler only: client reads are held by turning the channel's
/// `autoRead` off (`ChannelHandlerContext.setAutoRead`), not by intercepting
/// `read`, which would put the handler on the path of every read NIO asks for.
final class ProxyServerHandler: ChannelInboundHandler {
    /// Requests are read as bytes (see `ClientRequestParser`).
    typealias InboundIn = ByteBuffer
    /// Responses are written as bytes: the app's header lines are copied as
    /// they came (see `UpstreamResponseParser`), not re-encoded by NIO.
    typealias OutboundOut = ByteBuffer

    private let runtime: ProxyRuntime
    private let loop: LoopContext
    /// The connection's header and idle timeouts (driven from here).
    private let timeouts: ClientConnectionTimeouts
    /// Counts this connection against `clients.max_connections` until the handler is removed.
    private let connections: ConnectionLimit
    /// (`@exclusivity(unchecked)`: see `LoopContext`.)
    @exclusivity(unchecked) private var parser: ClientRequestParser
    private var context: ChannelHandlerContext?
    private var clientAddress = "unknown"
    private var exchange: Exchange?
    // The flags together (stored properties are laid out in declaration
    // order: each flag between wider fields would cost a padded word per connection).
    /// `processBuffered` is on the stack (a response it led to completed synchronously).
    private var processing = false
    /// Client reads are held: `autoRead` is off until `resumeClientReadsIfPossible` turns it on.
    private var pendingRead = false
    /// Set once the connection is to close after the current response.
    private var closeAfterResponse = false
    /// After an early answer we read and drop the rest of the request body.
    private var discardingBody = false
    private var upstreamNeedsFlush = false
    /// `channelRead` is on the stack: `channelReadComplete` follows, and flushes.
    private var inClientRead = false
    /// Something was written to the client since its last flush.
    private var clientNeedsFlush = false
    /// The client channel's writability as its last change said (see
    /// `UpstreamConnection.isWritable`).
    private var clientWritable = true
    /// Up to this many bytes of body join the unwritten response head in one buffer.
    private static let coalesceLimit = 2048
    /// Past this many bytes of pipelined requests waiting behind a response,
    /// the client is not read until the response is sent.
    private static let pipelineBufferLimit = 16 * 1024

    init(runtime: ProxyRuntime, loop: LoopContext, timeouts: ClientConnectionTimeouts, connections: ConnectionLimit) {
        self.runtime = runtime
        self.loop = loop
        self.timeouts = timeouts
        self.connections = connections
        self.parser = ClientRequestParser(maximumHeadBytes: runtime.snapshot.configuration.clients.maxHeaderBytes)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let address = context.channel.remoteAddress?.ipText {
            self.clientAddress = address
        }
        if context.channel.isActive {
            self.timeouts.start(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timeouts.stop()
        self.context = nil
        self.connections.closed()
    }

    func channelActive(context: ChannelHandlerContext) {
        self.timeouts.start(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.parser.append(self.unwrapInboundIn(data))
        self.inClientRead = true
        self.processBuffered(context: context)
        self.inClientRead = false
    }

    /// Acts on what the bytes read so far complete, request by request: while
    /// a response is due, pipelined requests wait as bytes (errors in them
    /// too) until the ones before them are answered.
    private func processBuffered(context: ChannelHandlerContext) {
        // A response completed by an event below comes back here: the loop on
        // the stack carries on with the next request.
        guard !self.processing else { return }
        self.processing = true
        defer { self.processing = false }
        // One reading of the clock for every event of this pass (they are
        // microseconds apart): a request without a body gets its head and
        // its end in the same pass.
        var clock = PassClock()
        while !(self.exchange?.requestEnded ?? false), !self.closeAfterResponse || self.discardingBody {
            let event: ClientRequestParser.Event?
            do {
                event = try self.parser.next(lineScratch: &self.loop.headLineScratch)
            } catch {
                self.rejectMalformed(error, context: context)
                return
            }
            switch consume event {
            case .head(let head):
                self.discardingBody = false
                self.receivedHead(head, context: context, now: clock.now())
            case .body(let buffer):
                self.receivedBody(buffer)
            case .end:
                self.receivedEnd(context: context, now: clock.now())
            case nil:
                if self.parser.hasPartialHead {
                    // Bytes that completed no head: a head on its way.
                    self.timeouts.bytesArrived()
                }
                return
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.upstreamNeedsFlush {
            self.upstreamNeedsFlush = false
            self.exchange?.connection?.flush()
        }
        // NIO asks for the next read right after this returns (`autoRead`):
        // what the bytes read so far led to decides whether it may.
        if !self.pendingRead, self.shouldHoldClientReads {
            self.pendingRead = true
            context.setAutoRead(false)
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.clientWritable = context.channel.isWritable
        if self.clientWritable {
            self.exchange?.connection?.resumeReads()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timeouts.stop()
        if let exchange = self.exchange {
            // The client went away: abort the upstream side so nothing half-sent looks complete.
            self.exchange = nil
            exchange.responseDeadline = 0
            if let connection = exchange.connection {
                exchange.connection = nil
                connection.abort()
            }
            exchange.server?.requestFinished()
            self.logDecision(exchange, status: exchange.responseStarted ? exchange.status : 499, server: exchange.server)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // I/O errors on the client connection: close it; channelInactive cleans up.
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ResponseDeadlineCheck {
            self.checkResponseDeadline()
            return
        }
        if event is ChannelShouldQuiesceEvent {
            // Draining: close now when idle, else after the response in flight.
            if self.exchange == nil {
                context.close(promise: nil)
            } else {
                self.closeAfterResponse = true
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private var shouldHoldClientReads: Bool {
        guard let exchange = self.exchange, !self.discardingBody else { return false }
        if exchange.requestEnded {
            // Pipelined requests wait as bytes; past a limit, unread.
            return self.parser.bufferedBytes >= Self.pipelineBufferLimit
        }
        guard let connection = exchange.connection else { return true }
        return !connection.isWritable || exchange.held != nil
    }

    private func resumeClientReadsIfPossible() {
        guard self.pendingRead, !self.shouldHoldClientReads, let context = self.context else { return }
        self.pendingRead = false
        context.setAutoRead(true)
    }

    // MARK: Request

    private func receivedHead(_ head: ClientRequestHead, context: ChannelHandlerContext, now: UInt64) {
        let (snapshot, replicaEntries) = self.runtime.publishedSnapshot(&self.loop.published)
        let configuration = snapshot.configuration
        self.timeouts.requestHeadReceived()

        // The parser refused every malformed or ambiguous head (smuggling
        // shapes included); what is left to check is the configured limit.
        if case .length(let declared) = head.framing, declared > configuration.clients.maxBodyBytes {
            self.respondLocally(.payloadTooLarge, body: "413 Payload Too Large: body over \(configuration.clients.maxBodyBytes) bytes\n")
            return
        }
        let hasBody: Bool
        switch head.framing {
        case .none, .length(0): hasBody = false
        case .length, .chunked: hasBody = true
        }

        // Pin and routing decision.
        let path = head.path
        let method = head.method
        let (pin, decision) = DecisionPath.decide(
            head, path: path, snapshot: snapshot, replicaEntries: replicaEntries, pinCache: &self.loop.pinCache, now: now)

        // The head the app server sees. Without a trusted X-Forwarded-Host,
        // the head's own Host is copied into it from the request's bytes.
        let forwarded = ForwardedHeaders.compute(
            peer: self.clientAddress,
            incomingForwardedFor: head.hasForwarded ? head.values("x-forwarded-for") : [],
            incomingProto: head.hasForwarded ? head.values("x-forwarded-proto").first : nil,
            incomingHost: head.hasForwarded ? head.values("x-forwarded-host").first : nil,
            host: nil,
            trustedProxies: configuration.clients.trustedProxies
        )
        var upstreamHead = self.loop.headBuffer(minimumCapacity: head.upstreamHeadCapacity, allocator: self.loop.allocator)
        head.writeUpstreamHead(
            forwarded: forwarded, hostFallback: head.hostCount == 0 ? ProxyServerHandler.localHost(context) : nil,
            into: &upstreamHead)

        // The snapshot and the replica entries are moved in (their last
        // uses here): a retain and a release of each saved per request.
        let exchange = Exchange(
            snapshot: consume snapshot,
            replicaEntries: consume replicaEntries,
            startNanos: now,
            timestampMillis: self.loop.wallClock.millis(uptimeNanos: now),
            method: method,
            path: path,
            client: forwarded.realIP,
            decision: decision,
            pin: pin,
            knownMethod: head.knownMethod,
            clientKeepAlive: head.keepAlive,
            clientIsHTTP10: head.isHTTP10,
            upstreamHead: upstreamHead,
            upstreamChunked: head.framing == .chunked
        )
        if !hasBody {
            // No body: nothing more to wait for before sending.
            exchange.replay = []
        }
        self.exchange = exchange
        if head.expectsContinue {
            self.context?.writeAndFlush(self.wrapOutboundOut(ByteBuffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
        }
        self.startAttempt(exchange, now: now)
    }

    private func receivedBody(_ buffer: ByteBuffer) {
        guard let exchange = self.exchange, !self.discardingBody else { return }
        exchange.receivedBody(buffer)
        if exchange.bodyBytes > exchange.snapshot.configuration.clients.maxBodyBytes {
            // A chunked body over the limit: abort upstream so no app server sees a complete request.
            exchange.responseDeadline = 0
            if let connection = exchange.connection {
                exchange.connection = nil
                connection.abort()
                exchange.server?.requestFinished()
            } else if exchange.server != nil {
                exchange.server?.requestFinished()
            }
            exchange.server = nil
            self.finishLocally(
                exchange, status: .payloadTooLarge,
                body: "413 Payload Too Large: body over \(exchange.snapshot.configuration.clients.maxBodyBytes) bytes\n", close: true)
            return
        }
        if let connection = exchange.connection, exchange.held == nil {
            self.writePendingBody(exchange, to: connection)
        }
    }

    private func receivedEnd(context: ChannelHandlerContext, now: UInt64) {
        if self.discardingBody {
            self.discardingBody = false
            return
        }
        guard let exchange = self.exchange else { return }
        exchange.requestEnded = true
        if let connection = exchange.connection {
            self.writePendingBody(exchange, to: connection)
            if connection.writeEnd() {
                self.upstreamNeedsFlush = true
            }
            // A request without a body was flushed whole when it was attached:
            // an empty flush would cost a trip through the channel for nothing.
            if self.upstreamNeedsFlush {
                connection.flush()
                self.upstreamNeedsFlush = false
            }
            self.startResponseDeadline(exchange, now: now)
        }
    }

    private func writePendingBody(_ exchange: Exchange, to connection: UpstreamConnection) {
        guard !exchange.pending.isEmpty else { return }
        for part in exchange.pending {
            connection.writeBody(part)
            exchange.bodyBytesWritten += part.readableBytes
        }
        exchange.pending.removeAll(keepingCapacity: true)
        self.upstreamNeedsFlush = true
    }

    // MARK: Attempts

    private func startAttempt(_ exchange: Exchange, now: UInt64) {
        let picked: UpstreamServerState?
        switch exchange.decision.target {
        case .unavailable:
            self.finishLocally(exchange, failure: .noReplica)
            return
        case .primary:
            picked = self.loop.pickPrimary(exchange.snapshot, now: now, excluding: exchange.tried)
            exchange.replicaIndex = nil
        case .replicas(let set):
            if let choice = self.loop.pickReplica(exchange.snapshot, replicas: set, now: now, excluding: exchange.tried) {
                picked = choice.server
                exchange.replicaIndex = choice.replica
            } else if exchange.snapshot.configuration.routing.onNoReplica == .primary {
                // No server of the chosen replicas is left: every one failed on this
                // request, or was marked down (by another loop) since the decision.
                // Those replicas count as not in rotation (SPEC §3 step 4), so the read
                // falls back to the primary, within the same retry budget.
                let reason: RouteReason
                switch exchange.decision.reason {
                case .read: reason = .noReplica
                case .pinCaughtUp: reason = .pinned
                default: reason = exchange.decision.reason  // a replica rule keeps its name (SPEC §3)
                }
                exchange.decision = RouteDecision(target: .primary, reason: reason)
                exchange.replicaIndex = nil
                picked = self.loop.pickPrimary(exchange.snapshot, now: now, excluding: exchange.tried)
            } else {
                picked = nil
            }
        }
        guard let server = picked else {
            if exchange.attempts == 0 {
                self.finishLocally(exchange, failure: .noServer(pool: self.poolName(exchange)))
            } else if let last = exchange.server {
                self.finishLocally(exchange, failure: .upstream(.connectFailed, server: last.addressText))
            } else {
                self.finishLocally(exchange, failure: .noServer(pool: self.poolName(exchange)))
            }
            return
        }
        exchange.attempts += 1
        exchange.tried.insert(ObjectIdentifier(server))
        server.requestStarted()
        if let connection = self.loop.takeIdle(server) {
            // Its last use: moved into the exchange, not copied.
            exchange.server = consume server
            self.attach(connection, to: exchange, now: now)
            return
        }
        exchange.server = server
        exchange.connecting = true
        let timeout = TimeAmount.nanoseconds(exchange.snapshot.connectTimeoutNanos)
        self.loop.connect(server, timeout: timeout).assumeIsolated().whenComplete { result in
            exchange.connecting = false
            guard self.exchange === exchange else {
                // The client left (or the request was answered) meanwhile.
                if case .success(let connection) = result {
                    self.loop.release(connection, keepalive: exchange.snapshot.configuration.upstream.keepalive, idleTimeout: self.idleTimeout(exchange))
                }
                return
            }
            switch result {
            case .success(let connection):
                self.attach(connection, to: exchange, now: NIODeadline.now().uptimeNanoseconds)
            case .failure:
                self.attemptFailed(exchange, cause: .connectFailed)
            }
        }
    }

    private func poolName(_ exchange: Exchange) -> String {
        switch exchange.decision.target {
        case .primary, .unavailable: return "primary"
        case .replicas(let set):
            let names = set.compactMap { index in
                index < exchange.snapshot.configuration.replicas.count ? exchange.snapshot.configuration.replicas[index].name : nil
            }
            return names.isEmpty ? "replicas" : names.joined(separator: ",")
        }
    }

    private func idleTimeout(_ exchange: Exchange) -> TimeAmount {
        .nanoseconds(exchange.snapshot.idleTimeoutNanos)
    }

    /// `now`: the caller's reading of the clock, taken in the same event-loop turn.
    private func attach(_ connection: UpstreamConnection, to exchange: Exchange, now: UInt64) {
        exchange.connection = connection
        connection.delegate = self
        connection.resumeReads()
        connection.requestsServed += 1
        exchange.reachedServer = true
        connection.writeHead(exchange.upstreamHead, isHEAD: exchange.isHEAD, chunked: exchange.upstreamChunked)
        if exchange.bodyBytesWritten > 0, let replay = exchange.replay {
            // A retry: send everything again from the start.
            exchange.pending = replay
            exchange.bodyBytesWritten = 0
        }
        self.writePendingBody(exchange, to: connection)
        if exchange.requestEnded {
            connection.writeEnd()
            self.startResponseDeadline(exchange, now: now)
        }
        if self.inClientRead && !exchange.requestEnded {
            // The rest of the request (its body, its end) may be in the bytes
            // being read: written behind the head and flushed with it, at the
            // request's end or the read's (one write, as nginx sends a small POST).
            self.upstreamNeedsFlush = true
        } else {
            connection.flush()
            self.upstreamNeedsFlush = false
        }
        self.resumeClientReadsIfPossible()
    }

    /// Starts the wait for the response head (`upstream.response_timeout`).
    ///
    /// No timer per request or connection: the event loop's
    /// `ClientTimeoutSweep`, which already looks at every connection for its
    /// header and idle timeouts, sends a connection waiting for a response a
    /// `ResponseDeadlineCheck` every eighth of the response timeout, so the
    /// deadline is enforced between 1× and 1.125× its value. A scheduled task
    /// per connection cost a schedule and a cancel for each short-lived
    /// connection, and ~250 bytes for each idle one until it fired.
    private func startResponseDeadline(_ exchange: Exchange, now: UInt64) {
        exchange.responseDeadline = now &+ UInt64(max(0, exchange.snapshot.responseTimeoutNanos))
    }

    private func checkResponseDeadline() {
        guard let exchange = self.exchange, exchange.responseDeadline != 0, !exchange.responseStarted,
            NIODeadline.now().uptimeNanoseconds >= exchange.responseDeadline
        else { return }
        exchange.responseDeadline = 0
        if let connection = exchange.connection {
            exchange.connection = nil
            connection.abort()
        }
        self.attemptFailed(exchange, cause: .responseTimeout)
    }

    /// A failure before the response head: retry on another server or answer 502/504.
    private func attemptFailed(_ exchange: Exchange, cause: ProxyFailure.Cause) {
        exchange.responseDeadline = 0
        exchange.connection = nil
        let now = NIODeadline.now().uptimeNanoseconds
        if let server = exchange.server {
            server.requestFinished()
            let configuration = exchange.snapshot.configuration.upstream
            if server.recordFailure(now: now, maxFails: configuration.maxFails, failTimeoutNanos: exchange.snapshot.failTimeoutNanos) {
                self.runtime.logger.warning(
                    "app server marked down",
                    metadata: ["server": "\(server.address)", "pool": "\(server.pool)", "fail_timeout_s": "\(configuration.failTimeout.components.seconds)"]
                )
                self.runtime.observer?.serverHealthChanged(server: server, up: false)
            }
        }
        if exchange.mayRetry(after: cause) {
            if let server = exchange.server {
                self.runtime.observer?.upstreamRetried(server: server)
            }
            self.startAttempt(exchange, now: now)
            return
        }
        let serverText = exchange.server?.addressText ?? "unknown"
        self.finishLocally(exchange, failure: .upstream(cause, server: serverText))
    }

    // MARK: Response

    private func relayHead(_ head: UpstreamResponseHead, exchange: Exchange) {
        exchange.responseDeadline = 0
        exchange.responseStarted = true
        exchange.upstreamKeepAlive = head.keepAlive
        exchange.status = head.status
        let bodyEndsWithoutLength = head.framing == .chunked || head.framing == .untilClose
        if exchange.clientIsHTTP10 {
            // An HTTP/1.0 client cannot read chunks (RFC 9112 §6.1): a body without
            // a Content-Length ends when the connection closes (nginx does the same).
            exchange.chunkedToClient = false
            if bodyEndsWithoutLength {
                self.closeAfterResponse = true
            }
        } else {
            exchange.chunkedToClient = bodyEndsWithoutLength
        }

        // The app speaks to us in X-Switchyard-* headers (never forwarded to the client).
        let appPin = head.pinDirective
        let appLSN = head.lsnText.flatMap { LSN(parsing: $0[...]) }
        let wantsPin = (exchange.decision.setsPin && appPin != "none") || appPin == "force"
        if wantsPin {
            if exchange.snapshot.configuration.pin.mode == .lsn, appLSN == nil, let source = self.runtime.positionSource {
                // Hold the response until the primary's position is known (several writes share one query).
                exchange.held = []
                let promise = self.loop.eventLoop.makePromise(of: LSN?.self)
                source.requestInsertPosition { position in promise.succeed(position) }
                promise.futureResult.assumeIsolated().whenSuccess { position in
                    guard self.exchange === exchange else { return }
                    self.sendHead(head, exchange: exchange, pin: PinToken(issuedAtMillis: WallClock.nowMillis(), lsn: position))
                    let held = exchange.held ?? []
                    exchange.held = nil
                    for event in held {
                        switch event {
                        case .event(let event):
                            guard self.exchange === exchange else { break }
                            self.relayUpstream(event, exchange: exchange)
                        case .closed(let error):
                            if let connection = exchange.connection {
                                self.upstream(connection, closedWith: error)
                            }
                        }
                    }
                    if let context = self.context {
                        self.flushClient(exchange, context: context)
                    }
                    exchange.connection?.resumeReads()
                    self.resumeClientReadsIfPossible()
                }
                return
            }
            let lsn = exchange.snapshot.configuration.pin.mode == .lsn ? appLSN : nil
            self.sendHead(head, exchange: exchange, pin: PinToken(issuedAtMillis: WallClock.nowMillis(), lsn: lsn))
        } else {
            self.sendHead(head, exchange: exchange, pin: nil)
        }
    }

    /// The client's response head: the status line and the app's header lines
    /// copied as they came (minus what never crosses the proxy), then ours.
    /// Sized by a first pass over its pieces, then written in one piece into
    /// a recycled buffer (a `ByteBuffer` write per piece cost its checks and
    /// a run-time exclusivity check each).
    private func sendHead(_ head: UpstreamResponseHead, exchange: Exchange, pin: PinToken?) {
        guard self.context != nil else { return }
        let added = self.addedHeaders(exchange: exchange, pin: pin)
        Self.withPinToken(pin, of: exchange) { token in
            self.writeResponseHead(head, exchange: exchange, added: added, token: token)
        }
    }

    private func writeResponseHead(_ head: UpstreamResponseHead, exchange: Exchange, added: AddedHeaders, token: UnsafeRawBufferPointer?) {
        var counter = HeadByteCounter()
        Self.emitResponseHead(head, exchange: exchange, added: added, token: token, to: &counter)
        // Room for a small body too: it joins the head (see `writeToClient`).
        var bodyRoom = 0
        switch head.framing {
        case .length(let length) where length <= Self.coalesceLimit: bodyRoom = length
        case .chunked: bodyRoom = 64
        default: break
        }
        var buffer = self.loop.headBuffer(minimumCapacity: counter.count + bodyRoom, allocator: self.loop.allocator)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: counter.count) { space in
            var writer = HeadByteWriter(space)
            Self.emitResponseHead(head, exchange: exchange, added: added, token: token, to: &writer)
            return writer.count
        }
        // One head per exchange (the parser drops interim 1xx heads).
        exchange.unwrittenHead = buffer
    }

    private static func emitResponseHead(
        _ head: UpstreamResponseHead, exchange: Exchange, added: AddedHeaders, token: UnsafeRawBufferPointer?,
        to output: inout some HeadByteOutput
    ) {
        if exchange.clientIsHTTP10 {
            output.literal("HTTP/1.0 ")
        } else {
            output.literal("HTTP/1.1 ")
        }
        head.bytes.withUnsafeReadableBytes { bytes in
            output.put(UnsafeRawBufferPointer(rebasing: bytes[head.statusText]))
            output.literal("\r\n")
            for run in head.runs {
                output.put(UnsafeRawBufferPointer(rebasing: bytes[run.start..<(run.start + run.length)]))
                if run.appendLineEnd {
                    output.literal("\r\n")
                }
            }
        }
        if exchange.chunkedToClient {
            output.literal("transfer-encoding: chunked\r\n")
        }
        Self.emitAddedHeaders(added, token: token, snapshot: exchange.snapshot, to: &output)
        output.literal("\r\n")
    }

    // MARK: Client output

    /// Writes to the client; a small buffer joins `exchange`'s unwritten head instead.
    private func writeToClient(_ buffer: ByteBuffer, for exchange: Exchange, context: ChannelHandlerContext) {
        if let headBytes = exchange.unwrittenHead?.readableBytes {
            if buffer.readableBytes <= Self.coalesceLimit, headBytes + buffer.readableBytes <= 4 * Self.coalesceLimit {
                exchange.unwrittenHead?.writeImmutableBuffer(buffer)
                return
            }
            self.writeUnwrittenHead(of: exchange, context: context)
        }
        context.write(self.wrapOutboundOut(buffer), promise: nil)
        self.clientNeedsFlush = true
    }

    private func writeUnwrittenHead(of exchange: Exchange, context: ChannelHandlerContext) {
        // Moved out, then into the spare buffers: only the write's reference is a new one.
        guard let head = exchange.unwrittenHead.take() else { return }
        context.write(self.wrapOutboundOut(head), promise: nil)
        self.clientNeedsFlush = true
        self.loop.recycle(head)
    }

    /// Flushes what was written to the client (`exchange`'s unwritten head
    /// first), if anything was.
    ///
    /// A head (a small body joined to it) that is all there is to send goes
    /// with one `writeAndFlush`: one trip through the pipeline, not two.
    private func flushClient(_ exchange: Exchange?, context: ChannelHandlerContext) {
        if !self.clientNeedsFlush, let head = exchange?.unwrittenHead.take() {
            context.writeAndFlush(self.wrapOutboundOut(head), promise: nil)
            self.loop.recycle(head)
            return
        }
        if let exchange {
            self.writeUnwrittenHead(of: exchange, context: context)
        }
        if self.clientNeedsFlush {
            self.clientNeedsFlush = false
            context.flush()
        }
    }

    /// The headers Switchyard adds to a response: the pin cookie, the decision
    /// header when configured, and what the connection does next. Decided
    /// once per head (a head is written in two passes; the state changes
    /// happen in `addedHeaders`).
    private struct AddedHeaders {
        /// `x-switchyard-decision` (`log.decision_header`).
        var decision: String?
        /// `connection: close`, or HTTP/1.0's `connection: keep-alive`.
        var connection: StaticString?
    }

    /// A pin (the `set-cookie` line) comes with the signed token, see `emitAddedHeaders`.
    private func addedHeaders(exchange: Exchange, pin: PinToken?) -> AddedHeaders {
        var added = AddedHeaders()
        if pin != nil {
            exchange.pinSet = true
        }
        if exchange.snapshot.configuration.log.decisionHeader {
            added.decision = self.record(exchange, status: exchange.status, server: exchange.server).headerValue
        }
        if !exchange.clientKeepAlive || self.runtime.isDraining || self.closeAfterResponse || !exchange.requestEnded {
            // Not keeping the connection: say so.
            if !exchange.requestEnded { self.closeAfterResponse = true }
            added.connection = "connection: close\r\n"
        } else if exchange.clientIsHTTP10 {
            // HTTP/1.0 keep-alive is opt-in on both sides: confirm it.
            added.connection = "connection: keep-alive\r\n"
        }
        return added
    }

    /// Calls `body` with the pin cookie's signed value, or nil when no pin is
    /// set (the signer is not even looked up then).
    private static func withPinToken(_ pin: PinToken?, of exchange: Exchange, _ body: (UnsafeRawBufferPointer?) -> Void) {
        guard let pin else {
            body(nil)
            return
        }
        exchange.snapshot.signer.withSignedToken(pin) { body($0) }
    }

    /// The added header lines; `token`: the pin cookie's signed value, when a pin is set.
    private static func emitAddedHeaders(
        _ added: AddedHeaders, token: UnsafeRawBufferPointer?, snapshot: ProxySnapshot, to output: inout some HeadByteOutput
    ) {
        if let token {
            output.literal("set-cookie: ")
            output.put(snapshot.configuration.pin.cookie)
            output.literal("=")
            output.put(token)
            output.put(snapshot.cookieAttributes)
            output.literal("\r\n")
        }
        if let decision = added.decision {
            output.literal("x-switchyard-decision: ")
            output.put(decision)
            output.literal("\r\n")
        }
        if let connection = added.connection {
            output.literal(connection)
        }
    }

    private func relayUpstream(_ event: UpstreamResponseEvent, exchange: Exchange) {
        switch event {
        case .head(let head):
            self.relayHead(head, exchange: exchange)
        case .body(let buffer):
            self.relayBody(buffer, exchange: exchange)
        case .end(let reusable):
            self.finishRelayed(exchange, reusable: reusable)
        }
    }

    private func relayBody(_ buffer: ByteBuffer, exchange: Exchange) {
        guard let context = self.context, buffer.readableBytes > 0 else { return }
        guard exchange.chunkedToClient else {
            self.writeToClient(buffer, for: exchange, context: context)
            return
        }
        // One chunk per slice received: size line, data, line end.
        self.writeToClient(ChunkedFraming.sizeLine(buffer.readableBytes, allocator: context.channel.allocator), for: exchange, context: context)
        self.writeToClient(buffer, for: exchange, context: context)
        self.writeToClient(ChunkedFraming.lineEnd, for: exchange, context: context)
    }

    private func finishRelayed(_ exchange: Exchange, reusable: Bool) {
        // One reading of the clock for the pool's idle time, the decision's
        // duration and the connection's idle timeout.
        let now = NIODeadline.now()
        self.exchange = nil
        // Moved out (`take`): no retain for the locals, no release for the
        // nils. Nothing reads the exchange's server or connection after this
        // (it is no longer the handler's; `record` is given the server).
        let server = exchange.server.take()
        if let server {
            server.requestFinished()
            if server.recordSuccess() {
                self.runtime.observer?.serverHealthChanged(server: server, up: true)
            }
        }
        if let connection = exchange.connection.take() {
            connection.delegate = nil
            if exchange.upstreamKeepAlive && reusable && exchange.requestEnded && exchange.pending.isEmpty {
                self.loop.release(
                    connection, keepalive: exchange.snapshot.configuration.upstream.keepalive, idleTimeout: self.idleTimeout(exchange),
                    now: now)
            } else {
                connection.close()
            }
        }
        self.logDecision(exchange, status: exchange.status, server: server, now: now)
        self.completeResponse(exchange, now: now)
        // Written long ago (a retry would have re-sent it before the response).
        self.loop.recycle(exchange.upstreamHead)
    }

    /// Ends the response (the last chunk when chunked); closes or resumes
    /// reading as the connection state says.
    private func completeResponse(_ exchange: Exchange, now: NIODeadline = .now()) {
        guard let context = self.context else { return }
        self.timeouts.responseComplete(now: now)
        let close = self.closeAfterResponse || !exchange.clientKeepAlive || self.runtime.isDraining || !exchange.requestEnded
        let last = exchange.chunkedToClient ? ChunkedFraming.lastChunk : nil
        if close {
            if !exchange.requestEnded {
                self.discardingBody = true
            }
            if let last {
                self.writeToClient(last, for: exchange, context: context)
            }
            self.clientNeedsFlush = false
            // The last write gives the flush a future to close after: the
            // unwritten head (a small response whole), or an empty buffer
            // when everything was written already. One trip through the
            // pipeline, and one `write` system call for a small response.
            let lastBytes = exchange.unwrittenHead.take()
            context.writeAndFlush(self.wrapOutboundOut(lastBytes ?? ByteBuffer())).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            if let lastBytes {
                self.loop.recycle(lastBytes)
            }
        } else {
            if let last {
                self.writeToClient(last, for: exchange, context: context)
            }
            self.flushClient(exchange, context: context)
            self.processBuffered(context: context)
            self.resumeClientReadsIfPossible()
        }
    }

    // MARK: Local answers

    private func finishLocally(_ exchange: Exchange, failure: ProxyFailure) {
        self.finishLocally(exchange, status: failure.status, body: failure.body, close: !exchange.requestEnded)
    }

    private func finishLocally(_ exchange: Exchange, status: HTTPResponseStatus, body: String, close: Bool) {
        guard self.exchange === exchange, let context = self.context else { return }
        exchange.status = Int(status.code)
        exchange.responseStarted = true
        exchange.chunkedToClient = false
        if close {
            self.closeAfterResponse = true
        }
        // A write that reached an app server is pinned even when we answer for it.
        var pin: PinToken? = nil
        if exchange.reachedServer && exchange.decision.setsPin && (status == .badGateway || status == .gatewayTimeout) {
            pin = PinToken(issuedAtMillis: WallClock.nowMillis(), lsn: nil)
        }
        var buffer = context.channel.allocator.buffer(capacity: 256 + body.utf8.count)
        ProxyServerHandler.writeLocalHead(status, bodyBytes: body.utf8.count, to: &buffer)
        let added = self.addedHeaders(exchange: exchange, pin: pin)
        Self.withPinToken(pin, of: exchange) { token in
            Self.emitAddedHeaders(added, token: token, snapshot: exchange.snapshot, to: &buffer)
        }
        buffer.writeStaticString("\r\n")
        if !exchange.isHEAD {
            buffer.writeString(body)
        }
        self.exchange = nil
        self.logDecision(exchange, status: exchange.status, server: nil)
        self.writeToClient(buffer, for: exchange, context: context)
        self.completeResponse(exchange)
    }

    /// Status line, content type and length of an answer Switchyard writes itself.
    private static func writeLocalHead(_ status: HTTPResponseStatus, bodyBytes: Int, to buffer: inout ByteBuffer) {
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ")
        buffer.writeString(String(bodyBytes))
        buffer.writeStaticString("\r\n")
    }

    /// An answer before any exchange exists (bad framing): always closes the connection.
    private func respondLocally(_ status: HTTPResponseStatus, body: String) {
        guard let context = self.context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 160 + body.utf8.count)
        ProxyServerHandler.writeLocalHead(status, bodyBytes: body.utf8.count, to: &buffer)
        buffer.writeStaticString("connection: close\r\n\r\n")
        buffer.writeString(body)
        self.discardingBody = true
        self.closeAfterResponse = true
        // No exchange is in flight here: nothing of another response is held.
        self.clientNeedsFlush = false
        context.writeAndFlush(self.wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
        self.runtime.logger.notice(
            "rejected request",
            metadata: ["client": "\(self.clientAddress)", "status": "\(status.code)", "why": "\(body.trimmingASCIISpaces())"]
        )
    }

    private func rejectMalformed(_ error: ClientRequestError, context: ChannelHandlerContext) {
        if let exchange = self.exchange {
            // Bad bytes inside a request body (e.g. a bad chunk size): the app must not see a complete request.
            if let connection = exchange.connection {
                exchange.connection = nil
                connection.abort()
            }
            exchange.responseDeadline = 0
            exchange.server?.requestFinished()
            exchange.server = nil
            if exchange.responseStarted {
                self.exchange = nil
                self.logDecision(exchange, status: exchange.status, server: nil)
                self.flushClient(exchange, context: context)
                context.close(promise: nil)
                return
            }
            self.finishLocally(exchange, status: .badRequest, body: "400 Bad Request: malformed request body\n", close: true)
            return
        }
        self.respondLocally(error.status, body: error.body)
    }

    // MARK: Helpers

    /// `IP:port` the client connected to (`[IPv6]:port`), for a request without Host.
    private static func localHost(_ context: ChannelHandlerContext) -> String? {
        guard let local = context.channel.localAddress, let ip = local.ipAddress, let port = local.port else { return nil }
        if case .v6 = local {
            return "[\(ip)]:\(port)"
        }
        return "\(ip):\(port)"
    }

    private func record(_ exchange: Exchange, status: Int, server: UpstreamServerState?, now: NIODeadline = .now()) -> DecisionRecord {
        let lag: Double? = exchange.replicaIndex.map { index in
            index < exchange.replicaEntries.count ? exchange.replicaEntries[index].lagSeconds ?? 0 : 0
        }
        return DecisionRecord(
            timestampMillis: exchange.timestampMillis,
            method: exchange.method,
            path: exchange.path,
            client: exchange.client,
            route: exchange.decision.route,
            reason: exchange.decision.reason,
            replica: exchange.replicaName,
            lagSeconds: lag,
            server: server?.addressText,
            pin: exchange.pin,
            status: status,
            attempts: exchange.attempts,
            durationSeconds: Double(now.uptimeNanoseconds &- exchange.startNanos) / 1e9,
            pinSet: exchange.pinSet
        )
    }

    private func logDecision(_ exchange: Exchange, status: Int, server: UpstreamServerState?, now: NIODeadline = .now()) {
        let record = self.record(exchange, status: status, server: server, now: now)
        let configuration = exchange.snapshot.configuration.log
        if configuration.decisions {
            self.loop.logDecision(record, format: configuration.format == .json ? .json : .logfmt)
        }
        // Its last use: moved, not copied (a copy retained each of its strings).
        self.loop.observer?.requestFinished(consume record)
    }
}

// MARK: - Upstream delegate

extension ProxyServerHandler: UpstreamConnectionDelegate {
    func upstream(_ connection: UpstreamConnection, read buffer: consuming ByteBuffer) {
        guard let exchange = self.exchange, exchange.connection === connection else {
            // Not this exchange's connection (any more): parsed, and dropped.
            connection.parse(buffer, to: DroppingSink(), ())
            return
        }
        // The exchange is looked up once per read, not once per event. The
        // handler is the sink, the connection and the exchange its context:
        // borrowed down to each event (a closure capturing the three retained
        // and released each per read).
        connection.parse(buffer, to: self, (connection, exchange))
    }

    /// What a stale connection's bytes complete: nothing is relayed.
    private struct DroppingSink: UpstreamResponseSink {
        func receive(_ event: UpstreamResponseEvent, _ context: Void) {}
    }

    func upstream(_ connection: UpstreamConnection, received event: UpstreamResponseEvent) {
        guard let exchange = self.exchange else { return }
        self.deliver(event, from: connection, to: exchange)
    }

    /// Relays `event` if `exchange` is still current and on `connection` (an
    /// event before it can end the exchange, or the client can go away while a
    /// body is written), or holds it while the head waits for its pin position.
    private func deliver(_ event: UpstreamResponseEvent, from connection: UpstreamConnection, to exchange: Exchange) {
        guard self.exchange === exchange, exchange.connection === connection else { return }
        if exchange.held != nil {
            exchange.held?.append(.event(event))
            return
        }
        self.relayUpstream(event, exchange: exchange)
    }

    func upstreamReadComplete(_ connection: UpstreamConnection) {
        if let context = self.context {
            self.flushClient(self.exchange, context: context)
        }
    }

    func upstreamBecameWritable(_ connection: UpstreamConnection) {
        self.resumeClientReadsIfPossible()
    }

    func upstream(_ connection: UpstreamConnection, closedWith error: (any Error)?) {
        guard let exchange = self.exchange, exchange.connection === connection else { return }
        if exchange.held != nil {
            // The head waits for its pin position: handle the close after it.
            exchange.held?.append(.closed(error))
            return
        }
        exchange.connection = nil
        if !exchange.responseStarted {
            self.attemptFailed(exchange, cause: .closedBeforeResponse)
            return
        }
        // The response had begun: the client gets a truncated response and a closed connection.
        self.exchange = nil
        let now = NIODeadline.now().uptimeNanoseconds
        if let server = exchange.server {
            server.requestFinished()
            let configuration = exchange.snapshot.configuration.upstream
            if server.recordFailure(now: now, maxFails: configuration.maxFails, failTimeoutNanos: exchange.snapshot.failTimeoutNanos) {
                self.runtime.observer?.serverHealthChanged(server: server, up: false)
            }
        }
        self.logDecision(exchange, status: exchange.status, server: exchange.server)
        if let context = self.context {
            self.flushClient(exchange, context: context)
            context.close(promise: nil)
        }
    }

    func upstreamMayRead(_ connection: UpstreamConnection) -> Bool {
        (self.context == nil || self.clientWritable) && self.exchange?.held == nil
    }
}

extension ChannelHandlerContext {
    /// Holds (false) or resumes (true) reading from the channel. Off, NIO
    /// stops asking for reads and stops watching the socket for them; on, it
    /// reads again at once. The request path changes it only around a held
    /// read: a request waiting for a connection, a body its server cannot
    /// take yet, a response waiting for its pin position or for its client
    /// to take more, or a full pipelining buffer.
    func setAutoRead(_ on: Bool) {
        // Cannot fail on an open channel; a closed one has nothing left to read.
        try? self.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
    }
}

extension StringProtocol where SubSequence == Substring {
    /// The text without leading and trailing spaces, tabs and line breaks.
    func trimmingASCIISpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return self[first...last]
    }
}

/// The monotonic clock (uptime nanoseconds), read at most once: on the first
/// `now()` of a pass over buffered request events.
private struct PassClock {
    private var reading: UInt64?

    mutating func now() -> UInt64 {
        if let reading { return reading }
        let reading = NIODeadline.now().uptimeNanoseconds
        self.reading = reading
        return reading
    }
}

extension ProxyServerHandler: UpstreamResponseSink {
    /// An event of a read `upstream(_:read:)` parses, with the connection it
    /// came on and the exchange that was current then.
    func receive(_ event: UpstreamResponseEvent, _ context: (connection: UpstreamConnection, exchange: Exchange)) {
        self.deliver(event, from: context.connection, to: context.exchange)
    }
}
