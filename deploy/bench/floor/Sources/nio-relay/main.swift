// The least an HTTP proxy on SwiftNIO can do per request, to measure NIO's own cost
// next to Switchyard's (deploy/bench/run.sh --floor): one event loop; each client connection
// gets its own keep-alive upstream connection (round robin over the given ports) and
// the bytes are relayed both ways unparsed, with one handler per channel that writes
// straight into the other channel's handler context, as Switchyard does. No parsing,
// routing, logging, metrics or timers: whatever this costs per request, any NIO proxy
// pays.
//
//   nio-relay LISTEN_PORT UPSTREAM_PORT [UPSTREAM_PORT...]
//
// NIO_RELAY_SPIN_NS=N (default 0) busy-waits N ns before each relayed read (two per
// small request): the relay then costs what a proxy with that much more work per read
// would, in user time, which shows how much kernel time follows from user time
// (deploy/bench/wakeups.sh; LOG.md, "the wake-up tax"). run.sh never sets it.

import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Busy-waits `nanoseconds` on the monotonic clock.
func spin(nanoseconds: UInt64) {
    let end = NIODeadline.now().uptimeNanoseconds &+ nanoseconds
    while NIODeadline.now().uptimeNanoseconds < end {}
}

let spinNanos: UInt64 = getenv("NIO_RELAY_SPIN_NS").flatMap { UInt64(String(cString: $0)) } ?? 0

final class Relay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var context: ChannelHandlerContext?
    var peer: Relay?
    private var peerNeedsFlush = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let peerContext = self.peer?.context else { return }
        if spinNanos > 0 {
            spin(nanoseconds: spinNanos)
        }
        peerContext.write(data, promise: nil)
        self.peerNeedsFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.peerNeedsFlush {
            self.peerNeedsFlush = false
            self.peer?.context?.flush()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let peer = self.peer
        self.peer = nil
        peer?.peer = nil
        peer?.context?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
guard arguments.count >= 2 else {
    print("usage: nio-relay LISTEN_PORT UPSTREAM_PORT [UPSTREAM_PORT...]")
    exit(2)
}
let listenPort = arguments[0]
let upstreamPorts = Array(arguments.dropFirst())
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let nextUpstream = Mutex(0)

let server = try ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.backlog, value: 1024)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .serverChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { client in
        // Registered (and read) only once its upstream connection is up.
        let port = nextUpstream.withLock { next in
            next &+= 1
            return upstreamPorts[next % upstreamPorts.count]
        }
        return ClientBootstrap(group: client.eventLoop)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port)
            .flatMapThrowing { upstream in
                let clientRelay = Relay()
                let upstreamRelay = Relay()
                clientRelay.peer = upstreamRelay
                upstreamRelay.peer = clientRelay
                try client.pipeline.syncOperations.addHandler(clientRelay)
                try upstream.pipeline.syncOperations.addHandler(upstreamRelay)
            }
    }
    .bind(host: "127.0.0.1", port: listenPort)
    .wait()
print("nio-relay listening on 127.0.0.1:\(listenPort), upstream ports \(upstreamPorts)")
try server.closeFuture.wait()
