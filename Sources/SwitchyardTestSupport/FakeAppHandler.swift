import Foundation
import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The per-connection handler of ``FakeAppServer``. Sits behind NIO's server pipeline (with
/// pipelining assistance, so at most one request is in flight per connection). Runs on the channel's
/// event loop only.
final class FakeAppHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let downloadChunkSize = 64 * 1024

    /// A behavior with its delays summed up.
    private enum Action {
        case echo
        case respond(status: Int, headers: [(String, String)], body: String)
        case download(bytes: Int)
        case hang
        case closeBeforeResponse
        case resetMidResponse(afterBytes: Int)
    }

    private struct Exchange {
        var head: HTTPRequestHead
        var recordIndex: Int
        var action: Action
        var delay: Duration
        var bodyBytes = 0

        var isHEAD: Bool { self.head.method == .HEAD }
        var keepAlive: Bool { self.head.isKeepAlive }
        var responseVersion: HTTPVersion {
            self.head.version.major == 1 && self.head.version.minor == 0 ? .http1_0 : .http1_1
        }
    }

    private struct Download {
        var remaining: Int
        var sent: Int
        var closeAfter: Bool
    }

    private let core: FakeAppServerCore
    private let connectionID: Int
    private var logger: Logger

    /// The request being received or answered.
    private var exchange: Exchange?
    /// A pending `.delay`.
    private var scheduled: Scheduled<Void>?
    /// A download in progress.
    private var download: Download?
    private var isPumping = false
    /// False once the channel went inactive or we decided to close it.
    private var isOpen = true
    /// The client half-closed: close once the current response is done.
    private var inputClosed = false
    /// One 64 KiB pattern buffer, shared (copy-on-write) by every download chunk.
    private var patternChunk: ByteBuffer?

    init(core: FakeAppServerCore, connectionID: Int) {
        self.core = core
        self.connectionID = connectionID
        var logger = core.logger
        logger[metadataKey: "connection"] = "\(connectionID)"
        self.logger = logger
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.receivedHead(head, context: context)
        case .body(let buffer):
            guard var exchange = self.exchange else { return }
            exchange.bodyBytes += buffer.readableBytes
            self.exchange = exchange
            self.core.recordBody(exchange.recordIndex, buffer)
        case .end:
            guard let exchange = self.exchange else { return }
            self.core.recordEnd(exchange.recordIndex)
            if case .closeBeforeResponse = exchange.action {
                return  // already closing (or scheduled to) since the head arrived
            }
            self.afterDelay(exchange.delay, context: context) { handler, context in
                handler.respond(to: exchange, context: context)
            }
        }
    }

    private func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard self.isOpen else { return }
        let (delay, action) = Self.resolve(self.core.behavior(forURI: head.uri))
        let recordIndex = self.core.recordHead(head, connectionID: self.connectionID)
        self.logger.debug("request", metadata: ["method": "\(head.method.rawValue)", "uri": "\(head.uri)"])
        let exchange = Exchange(head: head, recordIndex: recordIndex, action: action, delay: delay)
        self.exchange = exchange
        if case .closeBeforeResponse = action {
            self.afterDelay(delay, context: context) { handler, context in
                handler.logger.debug("closing before response")
                handler.close(context: context)
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.pumpDownload(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            self.inputClosed = true
            if self.exchange == nil && self.download == nil {
                self.close(context: context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isOpen = false
        self.scheduled?.cancel()
        self.scheduled = nil
        self.download = nil
        self.exchange = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("connection error, closing", metadata: ["error": "\(error)"])
        self.close(context: context)
    }

    // MARK: Behaviors

    private static func resolve(_ behavior: FakeAppServer.Behavior) -> (Duration, Action) {
        var delay = Duration.zero
        var current = behavior
        while case .delay(let wait, let next) = current {
            delay += wait
            current = next
        }
        switch current {
        case .echo: return (delay, .echo)
        case .respond(let status, let headers, let body): return (delay, .respond(status: status, headers: headers, body: body))
        case .download(let bytes): return (delay, .download(bytes: bytes))
        case .hang: return (delay, .hang)
        case .closeBeforeResponse: return (delay, .closeBeforeResponse)
        case .resetMidResponse(let afterBytes): return (delay, .resetMidResponse(afterBytes: afterBytes))
        case .delay: return (delay, .hang)  // unreachable: the loop above unwrapped every delay
        }
    }

    /// Runs `body` now, or after `delay` on the event loop (cancelled if the connection closes).
    private func afterDelay(
        _ delay: Duration,
        context: ChannelHandlerContext,
        _ body: @escaping (FakeAppHandler, ChannelHandlerContext) -> Void
    ) {
        guard delay > .zero else {
            body(self, context)
            return
        }
        self.scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
            self.scheduled = nil
            guard self.isOpen else { return }
            body(self, context)
        }
    }

    private func respond(to exchange: Exchange, context: ChannelHandlerContext) {
        guard self.isOpen else { return }
        switch exchange.action {
        case .echo:
            let body = self.echoBody(for: exchange)
            self.sendComplete(
                status: 200,
                headers: [("Content-Type", "application/json")],
                body: body,
                exchange: exchange,
                context: context
            )
        case .respond(let status, let headers, let body):
            self.sendComplete(status: status, headers: headers, body: Array(body.utf8), exchange: exchange, context: context)
        case .download(let bytes):
            self.startDownload(bytes: max(0, bytes), exchange: exchange, context: context)
        case .hang:
            self.logger.debug("hanging")
        case .closeBeforeResponse:
            self.close(context: context)
        case .resetMidResponse(let afterBytes):
            self.sendThenReset(afterBytes: max(0, afterBytes), exchange: exchange, context: context)
        }
    }

    private func echoBody(for exchange: Exchange) -> [UInt8] {
        var headers: [String: String] = [:]
        for header in exchange.head.headers {
            let name = header.name.lowercased()
            if let existing = headers[name] {
                headers[name] = existing + ", " + header.value
            } else {
                headers[name] = header.value
            }
        }
        let payload = EchoResponse(
            server: self.core.name,
            method: exchange.head.method.rawValue,
            uri: exchange.head.uri,
            headers: headers,
            bodyBytes: exchange.bodyBytes
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(payload))
        } catch {
            self.logger.error("could not encode echo body", metadata: ["error": "\(error)"])
            return Array("{\"error\":\"could not encode echo body\"}".utf8)
        }
    }

    // MARK: Writing

    private static func statusAllowsBody(_ status: Int) -> Bool {
        !((100..<200).contains(status) || status == 204 || status == 304)
    }

    /// A response head with `X-App-Server`, the given headers, `Content-Length` (unless framing headers
    /// were given or the status has no body) and the connection headers keep-alive requires.
    private func responseHead(
        status: Int,
        headers extra: [(String, String)],
        contentLength: Int,
        exchange: Exchange,
        closeAfter: Bool
    ) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "X-App-Server", value: self.core.name)
        for (name, value) in extra {
            headers.add(name: name, value: value)
        }
        let hasFraming = headers.contains(name: "content-length") || headers.contains(name: "transfer-encoding")
        if !hasFraming && Self.statusAllowsBody(status) {
            headers.add(name: "Content-Length", value: "\(contentLength)")
        }
        if closeAfter {
            if !headers.contains(name: "connection") {
                headers.add(name: "Connection", value: "close")
            }
        } else if exchange.responseVersion == .http1_0 && !headers.contains(name: "connection") {
            headers.add(name: "Connection", value: "keep-alive")
        }
        return HTTPResponseHead(
            version: exchange.responseVersion,
            status: HTTPResponseStatus(statusCode: status),
            headers: headers
        )
    }

    private func sendComplete(
        status: Int,
        headers: [(String, String)],
        body: [UInt8],
        exchange: Exchange,
        context: ChannelHandlerContext
    ) {
        let closeAfter = !exchange.keepAlive || self.inputClosed
        let head = self.responseHead(
            status: status,
            headers: headers,
            contentLength: body.count,
            exchange: exchange,
            closeAfter: closeAfter
        )
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        if !exchange.isHEAD && Self.statusAllowsBody(status) && !body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            self.core.addResponseBodyBytes(body.count)
        }
        self.finishResponse(closeAfter: closeAfter, context: context)
    }

    /// Writes the response end; closes afterwards if asked. Clears the exchange first: writing the end
    /// lets the pipelining handler deliver the next buffered request re-entrantly.
    private func finishResponse(closeAfter: Bool, context: ChannelHandlerContext) {
        self.exchange = nil
        if closeAfter {
            self.isOpen = false
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: promise)
        if closeAfter {
            promise.futureResult.assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    private func close(context: ChannelHandlerContext) {
        self.isOpen = false
        self.exchange = nil
        self.download = nil
        context.close(promise: nil)
    }

    private func pattern(context: ChannelHandlerContext) -> ByteBuffer {
        if let chunk = self.patternChunk {
            return chunk
        }
        var buffer = context.channel.allocator.buffer(capacity: Self.downloadChunkSize)
        for index in 0..<Self.downloadChunkSize {
            buffer.writeInteger(UInt8(truncatingIfNeeded: index))
        }
        self.patternChunk = buffer
        return buffer
    }

    /// `count` pattern bytes starting at body offset `offset` (at most one chunk).
    private func patternSlice(offset: Int, count: Int, context: ChannelHandlerContext) -> ByteBuffer {
        let chunk = self.pattern(context: context)
        let start = offset & 0xFF
        let length = min(count, Self.downloadChunkSize - start)
        return chunk.getSlice(at: chunk.readerIndex + start, length: length) ?? chunk
    }

    private func startDownload(bytes: Int, exchange: Exchange, context: ChannelHandlerContext) {
        let closeAfter = !exchange.keepAlive || self.inputClosed
        let head = self.responseHead(
            status: 200,
            headers: [("Content-Type", "application/octet-stream")],
            contentLength: bytes,
            exchange: exchange,
            closeAfter: closeAfter
        )
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        if exchange.isHEAD || bytes == 0 {
            self.finishResponse(closeAfter: closeAfter, context: context)
            return
        }
        context.flush()
        self.download = Download(remaining: bytes, sent: 0, closeAfter: closeAfter)
        self.pumpDownload(context: context)
    }

    /// Writes download chunks while the channel is writable; resumes on writability changes.
    private func pumpDownload(context: ChannelHandlerContext) {
        guard !self.isPumping, self.isOpen, self.download != nil else { return }
        self.isPumping = true
        defer { self.isPumping = false }
        while self.isOpen, var download = self.download, download.remaining > 0, context.channel.isWritable {
            let slice = self.patternSlice(
                offset: download.sent,
                count: min(Self.downloadChunkSize, download.remaining),
                context: context
            )
            download.remaining -= slice.readableBytes
            download.sent += slice.readableBytes
            self.download = download
            self.core.addResponseBodyBytes(slice.readableBytes)
            // flush may re-enter (writability, errors, inactive): state is stored before it.
            context.writeAndFlush(Self.wrapOutboundOut(.body(.byteBuffer(slice))), promise: nil)
        }
        if self.isOpen, let download = self.download, download.remaining == 0 {
            self.download = nil
            self.logger.debug("download complete", metadata: ["bytes": "\(download.sent)"])
            self.finishResponse(closeAfter: download.closeAfter, context: context)
        }
    }

    private func sendThenReset(afterBytes: Int, exchange: Exchange, context: ChannelHandlerContext) {
        let head = self.responseHead(
            status: 200,
            headers: [("Content-Type", "application/octet-stream")],
            contentLength: afterBytes + FakeAppServer.Behavior.resetMidResponseMissingBytes,
            exchange: exchange,
            closeAfter: false
        )
        self.exchange = nil
        self.isOpen = false
        var parts: [HTTPServerResponsePart] = [.head(head)]
        var sent = 0
        while !exchange.isHEAD && sent < afterBytes {
            let slice = self.patternSlice(offset: sent, count: afterBytes - sent, context: context)
            sent += slice.readableBytes
            parts.append(.body(.byteBuffer(slice)))
        }
        self.core.addResponseBodyBytes(sent)
        // The last write's promise completes once everything is in the kernel's send buffer.
        let flushed = context.eventLoop.makePromise(of: Void.self)
        for (index, part) in parts.enumerated() {
            context.write(Self.wrapOutboundOut(part), promise: index == parts.count - 1 ? flushed : nil)
        }
        context.flush()
        let logger = self.logger
        flushed.futureResult.assumeIsolated().whenComplete { _ in
            logger.debug("resetting connection mid-response", metadata: ["body_bytes_sent": "\(sent)"])
            Self.resetConnection(context: context)
        }
    }

    /// SO_LINGER 0 then close: the kernel sends RST instead of FIN.
    private static func resetConnection(context: ChannelHandlerContext) {
        guard let provider = context.channel as? any SocketOptionProvider else {
            context.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
