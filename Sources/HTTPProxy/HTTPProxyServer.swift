import Logging
import NIOCore
import NIOPosix
import Synchronization
import SwitchyardCore

/// The client-facing listener: a SwiftNIO server whose every connection runs
/// the request path on its own event loop, with that loop's keep-alive pools.
public final class HTTPProxyServer: Sendable {
    public let runtime: ProxyRuntime
    private let group: any EventLoopGroup
    private let connections: ConnectionLimit
    private let state = Mutex<(channel: (any Channel)?, loops: [ObjectIdentifier: NIOLoopBound<LoopContext>])>(
        (nil, [:]))

    public init(runtime: ProxyRuntime, group: any EventLoopGroup) {
        self.runtime = runtime
        self.group = group
        self.connections = ConnectionLimit(limit: runtime.snapshot.configuration.clients.maxConnections)
    }

    /// Client connections currently open.
    public var connectionCount: Int {
        self.connections.count
    }

    /// Binds and starts accepting; returns the bound address (port 0 picks one).
    public func start(host: String, port: Int) async throws -> SocketAddress {
        var loops: [ObjectIdentifier: NIOLoopBound<LoopContext>] = [:]
        let decisionSink = self.runtime.decisionSink
        let observer = self.runtime.observer
        for loop in self.group.makeIterator() {
            let bound = try await loop.submit {
                NIOLoopBound(
                    LoopContext(eventLoop: loop, decisionSink: decisionSink, observer: observer?.loopObserver()), eventLoop: loop)
            }.get()
            loops[ObjectIdentifier(loop)] = bound
        }
        self.state.withLock { $0.loops = loops }
        let loopsByID = loops
        let clients = self.runtime.snapshot.configuration.clients
        let runtime = self.runtime
        let connections = self.connections
        let headerTimeout = TimeAmount.nanoseconds(ProxySnapshot.nanos(clients.headerTimeout))
        let idleTimeout = TimeAmount.nanoseconds(ProxySnapshot.nanos(clients.idleTimeout))

        // Each connection keeps its receive buffer between reads: start it at 1 KiB
        // (nginx's client_header_buffer_size) instead of NIO's 2 KiB, growing on full
        // reads. An idle keep-alive connection costs ~1 KiB less.
        let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 65536)

        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // On the listener, not per connection: Linux gives an accepted socket the
            // listener's TCP_NODELAY (a test checks it), so no setsockopt per accept.
            // (NIO sets it there too by default; said here because we rely on it.)
            .serverChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptLimiter(connections))
                }
            }
            .childChannelInitializer { channel in
                // Counted by the listener's AcceptLimiter; the proxy handler's
                // handlerRemoved uncounts it. Not set up, it is uncounted here.
                do {
                    try Self.setUpConnection(
                        channel, loop: loopsByID[ObjectIdentifier(channel.eventLoop)], receiveAllocator: receiveAllocator,
                        runtime: runtime, connections: connections, headerTimeout: headerTimeout, idleTimeout: idleTimeout)
                } catch {
                    connections.closed()
                    return channel.eventLoop.makeFailedFuture(error)
                }
                // The loop's cached succeeded future: `makeCompletedFuture` built a
                // `Result` and looked up generic metadata per connection (~900 instructions).
                return channel.eventLoop.makeSucceededVoidFuture()
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        self.state.withLock { $0.channel = channel }
        guard let address = channel.localAddress else {
            throw ChannelError.unknownLocalAddress
        }
        return address
    }

    /// An accepted connection's set-up, on its own loop.
    private static func setUpConnection(
        _ channel: any Channel, loop: NIOLoopBound<LoopContext>?, receiveAllocator: AdaptiveRecvByteBufferAllocator,
        runtime: ProxyRuntime, connections: ConnectionLimit, headerTimeout: TimeAmount, idleTimeout: TimeAmount
    ) throws {
        // The loops never change after start: looked up without a lock.
        guard let loop else {
            throw ChannelError.ioOnClosedChannel
        }
        // The one option set per connection, here and synchronously: as a
        // bootstrap child option it would be applied through a chain of futures
        // per connection (~13 % of the user time of a connection-per-request
        // load). NIO's other defaults are ours (4 reads per readable event).
        try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: receiveAllocator)
        let timeouts = ClientConnectionTimeouts(
            headerTimeout: headerTimeout, idleTimeout: idleTimeout,
            responseTimeout: .nanoseconds(runtime.snapshot.responseTimeoutNanos), sweep: loop.value.clientTimeouts)
        // One handler: requests are parsed and responses written as bytes by
        // ProxyServerHandler (no NIO decoder or encoder, no pipelining helper:
        // pipelined requests wait as bytes behind the response in flight).
        // Open connections are known to their loop's timeout sweep (drain walks it).
        try channel.pipeline.syncOperations.addHandler(
            ProxyServerHandler(runtime: runtime, loop: loop.value, timeouts: timeouts, connections: connections))
    }

    /// Graceful shutdown (SPEC §7): stop accepting, let requests in flight
    /// finish up to `timeout` (busy connections get `Connection: close`, idle
    /// ones are closed), then close whatever is left and the idle upstream pools.
    public func drain(timeout: Duration) async {
        self.runtime.beginDraining()
        // Stop accepting, then ask every connection to quiesce: the proxy handler
        // closes idle ones now and busy ones after their response.
        let (listener, loops) = self.state.withLock { ($0.channel, Array($0.loops.values)) }
        try? await listener?.close()
        for loop in loops {
            try? await loop.eventLoop.submit {
                loop.value.clientTimeouts.forEachChannel { $0.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
            }.get()
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await Self.registeredConnections(loops) == 0 {
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let leftovers = await Self.registeredConnections(loops)
        if leftovers > 0 {
            self.runtime.logger.warning("drain timeout: closing connections still busy", metadata: ["connections": "\(leftovers)"])
            for loop in loops {
                try? await loop.eventLoop.submit {
                    loop.value.clientTimeouts.forEachChannel { $0.close(promise: nil) }
                }.get()
            }
        }
        for loop in loops {
            try? await loop.eventLoop.submit { loop.value.closeIdle() }.get()
        }
    }

    /// Client connections still open, over every loop.
    private static func registeredConnections(_ loops: [NIOLoopBound<LoopContext>]) async -> Int {
        var count = 0
        for loop in loops {
            count += (try? await loop.eventLoop.submit { loop.value.clientTimeouts.count }.get()) ?? 0
        }
        return count
    }
}
