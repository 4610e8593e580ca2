import Logging
import NIOCore
import NIOHTTP1

/// One admin connection: aggregates each request (body up to a limit, else
/// 413 and close), asks the ``AdminRouter``, writes the whole answer. Keep-alive
/// as HTTP/1.1 says; pipelined requests are held back by NIO's
/// `HTTPServerPipelineHandler` until the previous answer is written.
final class AdminHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// Answered 413 already (and shut our side): the rest of this request is
        /// read and dropped, up to `remaining` bytes, so that closing does not
        /// reset the connection under the client before it read the answer.
        case discarding(remaining: Int)
    }

    /// How much of a refused body is read and dropped before the connection is cut.
    static let discardLimit = 1024 * 1024

    private let router: AdminRouter
    private let maxBodyBytes: Int
    private var state: State = .idle

    init(router: AdminRouter, maxBodyBytes: Int) {
        self.router = router
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            if case .discarding = self.state {
                // Pipelined behind a refused request on a connection that is closing.
                return
            }
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > self.maxBodyBytes {
                self.refuseTooLarge(context: context, head: head)
                return
            }
            self.state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case .body(var chunk):
            switch self.state {
            case .receiving(let head, var body):
                guard body.readableBytes + chunk.readableBytes <= self.maxBodyBytes else {
                    self.refuseTooLarge(context: context, head: head)
                    return
                }
                self.state = .idle
                body.writeBuffer(&chunk)
                self.state = .receiving(head, body)
            case .discarding(let remaining):
                let left = remaining - chunk.readableBytes
                if left > 0 {
                    self.state = .discarding(remaining: left)
                } else {
                    context.close(promise: nil)
                }
            case .idle:
                break
            }
        case .end:
            switch self.state {
            case .receiving(let head, var body):
                self.state = .idle
                let request = AdminRequest(
                    method: head.method.rawValue, uri: head.uri,
                    authorization: head.headers.first(name: "authorization"), host: head.headers.first(name: "host"),
                    origin: head.headers.first(name: "origin"),
                    body: body.readBytes(length: body.readableBytes) ?? [],
                    peer: context.channel.remoteAddress?.ipAddress)
                let response = self.router.respond(to: request)
                self.write(response, for: head, keepAlive: head.isKeepAlive, context: context)
            case .discarding:
                context.close(promise: nil)
            case .idle:
                break
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // Idle keep-alive connections, and requests that stopped arriving half-way, are closed.
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.router.logger.debug("admin connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func refuseTooLarge(context: ChannelHandlerContext, head: HTTPRequestHead) {
        self.state = .discarding(remaining: AdminHTTPHandler.discardLimit)
        self.write(.payloadTooLarge, for: head, keepAlive: false, halfClose: true, context: context)
    }

    /// Writes the whole answer. Without keep-alive the connection is closed once
    /// it is written — or, with `halfClose`, only our side is (the client still
    /// sending is read and dropped, see ``State/discarding(remaining:)``).
    private func write(
        _ response: AdminResponse, for request: HTTPRequestHead, keepAlive: Bool, halfClose: Bool = false,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        for (name, value) in response.headers {
            headers.add(name: name, value: value)
        }
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if request.version.major == 1 && request.version.minor == 0 {
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD && !response.body.isEmpty {
            let buffer = context.channel.allocator.buffer(bytes: response.body)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { result in
                guard halfClose, case .success = result else {
                    channel.close(promise: nil)
                    return
                }
                channel.close(mode: .output).whenFailure { _ in
                    channel.close(promise: nil)
                }
            }
        }
    }
}
