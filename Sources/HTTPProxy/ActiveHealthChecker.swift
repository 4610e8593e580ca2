import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import SwitchyardCore

/// The optional active check (SPEC §4 `upstream.health_check`): every
/// `interval`, a `GET path` to each app server on a fresh connection; a
/// non-2xx/3xx answer or no answer within `timeout` takes the server out,
/// a success puts it back. Runs on one event loop, never on the request path.
public final class ActiveHealthChecker: Sendable {
    private let runtime: ProxyRuntime
    private let eventLoop: any EventLoop
    private let task = Mutex<RepeatedTask?>(nil)

    public init(runtime: ProxyRuntime, eventLoop: any EventLoop) {
        self.runtime = runtime
        self.eventLoop = eventLoop
    }

    /// (Re)starts checking with the current configuration; stops when it has no `health_check`.
    public func restart() {
        self.stop()
        guard let check = self.runtime.snapshot.configuration.upstream.healthCheck else { return }
        let interval = TimeAmount.nanoseconds(ProxySnapshot.nanos(check.interval))
        let repeated = self.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [weak self] _ in
            self?.checkAll()
        }
        self.task.withLock { $0 = repeated }
    }

    public func stop() {
        self.task.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    private func checkAll() {
        let snapshot = self.runtime.snapshot
        guard let check = snapshot.configuration.upstream.healthCheck else { return }
        for server in snapshot.primaryServers + snapshot.replicaServers.flatMap({ $0 }) {
            self.probe(server, check: check).whenComplete { [runtime = self.runtime] result in
                let up = (try? result.get()) ?? false
                if server.setActiveCheck(up: up) {
                    runtime.logger.warning(
                        up ? "app server passed its health check" : "app server failed its health check",
                        metadata: ["server": "\(server.address)", "pool": "\(server.pool)", "path": "\(check.path)"])
                    runtime.observer?.serverHealthChanged(server: server, up: up)
                }
            }
        }
    }

    /// True for a 2xx/3xx answer within the timeout.
    func probe(_ server: UpstreamServerState, check: HealthCheckConfiguration) -> EventLoopFuture<Bool> {
        guard let address = server.socketAddress else {
            return self.eventLoop.makeSucceededFuture(false)
        }
        let timeout = TimeAmount.nanoseconds(ProxySnapshot.nanos(check.timeout))
        let promise = self.eventLoop.makePromise(of: Bool.self)
        let host = server.address.description
        let path = check.path
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HealthProbeHandler(promise: promise, host: host, path: path))
                }
            }
        bootstrap.connect(to: address).whenComplete { result in
            switch result {
            case .success(let channel):
                let deadline = channel.eventLoop.scheduleTask(in: timeout) {
                    promise.succeed(false)
                    channel.close(promise: nil)
                }
                promise.futureResult.whenComplete { _ in
                    deadline.cancel()
                    channel.close(promise: nil)
                }
            case .failure:
                promise.succeed(false)
            }
        }
        return promise.futureResult
    }
}

/// Sends one `GET` and completes the promise with whether the status was 2xx/3xx.
private final class HealthProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let promise: EventLoopPromise<Bool>
    private let host: String
    private let path: String

    init(promise: EventLoopPromise<Bool>, host: String, path: String) {
        self.promise = promise
        self.host = host
        self.path = path
    }

    func channelActive(context: ChannelHandlerContext) {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: self.path)
        head.headers.add(name: "host", value: self.host)
        head.headers.add(name: "user-agent", value: "switchyard-health-check")
        head.headers.add(name: "connection", value: "close")
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = self.unwrapInboundIn(data) {
            self.promise.succeed((200..<400).contains(head.status.code))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.succeed(false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.promise.succeed(false)
        context.close(promise: nil)
    }
}
