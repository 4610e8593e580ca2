import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A real NIO HTTP/1.1 server on loopback standing in for an application server behind the proxy.
///
/// ```swift
/// let app = try await FakeAppServer.start(name: "app1")
/// defer { Task { await app.stop() } }   // or `await app.stop()` at the end of the test
/// app.setBehavior(.delay(.seconds(2), then: .echo))
/// ```
///
/// Every response carries `X-App-Server: <name>`. Keep-alive and pipelining are supported; the
/// behavior is read when a request head arrives, so ``setBehavior(_:)`` affects subsequent requests.
/// Every request is recorded (see ``RecordedRequest``) from the moment its head arrives.
public final class FakeAppServer: Sendable {
    /// What the server does with a request.
    public indirect enum Behavior: Sendable {
        /// 200 with a JSON body `{"server","method","uri","headers","body_bytes"}` (see ``EchoResponse``),
        /// sent once the whole request body has been counted.
        case echo
        /// A fixed response. `Content-Length` is added unless `headers` has `Content-Length` or
        /// `Transfer-Encoding` (then the body is sent as given under those headers: useful for bad framing).
        case respond(status: Int, headers: [(String, String)] = [], body: String = "")
        /// 200 with `Content-Length: bytes` and a body generated on the fly in 64 KiB chunks, written only
        /// while the channel is writable. Byte `k` of the body is `UInt8(k & 0xFF)`.
        case download(bytes: Int)
        /// Reads the request and never answers; the connection stays open until the client or ``stop()`` closes it.
        case hang
        /// Closes the connection (FIN) as soon as the request head arrives, without answering.
        case closeBeforeResponse
        /// Sends a head whose `Content-Length` is `afterBytes + 65536`, then `afterBytes` body bytes, then resets
        /// the connection (SO_LINGER 0 + close: the peer sees RST). Keep `afterBytes` well below the socket
        /// buffer sizes (a few hundred KiB) so that all of them reach the peer before the RST.
        case resetMidResponse(afterBytes: Int)
        /// Waits (on the event loop, never blocking) before doing `then`. The wait starts when `then` would
        /// act: when the request is complete, or for `.closeBeforeResponse` when its head arrives.
        case delay(Duration, then: Behavior)

        /// The extra `Content-Length` slack of ``resetMidResponse(afterBytes:)``.
        public static let resetMidResponseMissingBytes = 65_536
    }

    /// One request as the server saw it. Recorded when its head arrives and updated as its body streams.
    public struct RecordedRequest: Sendable, CustomStringConvertible {
        public var method: String
        public var uri: String
        /// `"HTTP/1.1"` or `"HTTP/1.0"`.
        public var version: String
        /// Header fields in wire order, duplicates kept.
        public var headers: [(String, String)]
        /// Body bytes received so far (all of them once ``isComplete``).
        public var bodyBytes: Int
        /// The body itself while it is at most ``FakeAppServer/bodyCaptureLimit`` bytes, nil beyond that.
        public var body: [UInt8]?
        /// True once the request's end arrived (a request whose connection broke mid-body stays false).
        public var isComplete: Bool
        /// Which accepted TCP connection (1, 2, ... in accept order) carried the request.
        public var connectionID: Int

        /// The URI without its query string.
        public var path: String {
            self.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? self.uri
        }

        /// The first value of header `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            self.headers.first { $0.0.caseInsensitiveEquals(name) }?.1
        }

        /// All values of header `name` (case-insensitive), in wire order.
        public func headers(named name: String) -> [String] {
            self.headers.filter { $0.0.caseInsensitiveEquals(name) }.map(\.1)
        }

        /// The captured body as UTF-8, nil when it was too large to capture.
        public var bodyString: String? {
            self.body.map { String(decoding: $0, as: UTF8.self) }
        }

        public var description: String {
            "\(self.method) \(self.uri) \(self.version) (conn \(self.connectionID), \(self.bodyBytes) body bytes\(self.isComplete ? "" : ", incomplete"))"
        }
    }

    /// Request bodies up to this size are kept in ``RecordedRequest/body``.
    public static let bodyCaptureLimit = 64 * 1024

    public let name: String
    public let host: String
    public let port: Int
    let core: FakeAppServerCore
    private let serverChannel: any Channel

    /// `"127.0.0.1:PORT"`.
    public var address: String { "\(self.host):\(self.port)" }

    private init(name: String, host: String, port: Int, core: FakeAppServerCore, serverChannel: any Channel) {
        self.name = name
        self.host = host
        self.port = port
        self.core = core
        self.serverChannel = serverChannel
    }

    /// Starts a server listening on `host:port` (give a port to restart a stopped server on the same
    /// address; SO_REUSEADDR is set). With port 0 a free port below the ephemeral range is picked
    /// (see ``unusedPort()``), so that once the server is stopped its port is not handed to another
    /// test's port-0 listener (tests rely on a stopped server refusing connections).
    public static func start(
        name: String,
        behavior: Behavior = .echo,
        port: Int = 0,
        host: String = "127.0.0.1",
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger? = nil
    ) async throws -> FakeAppServer {
        var serverLogger = logger ?? Logger(label: "switchyard.test-support.fake-app-server")
        serverLogger[metadataKey: "app_server"] = "\(name)"
        let core = FakeAppServerCore(name: name, behavior: behavior, logger: serverLogger)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let connectionID = core.connectionOpened(channel) else {
                        throw FakeAppServerError.stopped(name: name)
                    }
                    channel.closeFuture.whenComplete { _ in
                        core.connectionClosed(connectionID)
                    }
                    // Framing headers are set by the handler itself, so `.respond` can send bad framing on purpose.
                    var encoderConfiguration = HTTPResponseEncoder.Configuration()
                    encoderConfiguration.automaticallySetFramingHeaders = false
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: true,
                        withErrorHandling: true,
                        withOutboundHeaderValidation: false,
                        withEncoderConfiguration: encoderConfiguration
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        FakeAppHandler(core: core, connectionID: connectionID)
                    )
                }
            }
        let channel: any Channel
        if port != 0 {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } else {
            var bound: (any Channel)? = nil
            for _ in 0..<8 where bound == nil {
                bound = try? await bootstrap.bind(host: host, port: self.unusedPort()).get()
            }
            if let bound {
                channel = bound
            } else {
                channel = try await bootstrap.bind(host: host, port: 0).get()
            }
        }
        guard let boundPort = channel.localAddress?.port else {
            channel.close(promise: nil)
            throw FakeAppServerError.noLocalAddress(name: name)
        }
        serverLogger.debug("fake app server listening", metadata: ["address": "\(host):\(boundPort)"])
        return FakeAppServer(name: name, host: host, port: boundPort, core: core, serverChannel: channel)
    }

    /// Stops listening and closes every open connection (FIN; with `resetConnections: true` a RST,
    /// as a crashed process would). Returns once everything is closed. Idempotent.
    public func stop(resetConnections: Bool = false) async {
        self.core.markStopped()
        self.serverChannel.close(promise: nil)
        try? await self.serverChannel.closeFuture.get()
        let children = self.core.openChannels()
        for child in children {
            if resetConnections, let provider = child as? any SocketOptionProvider {
                try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            }
            child.close(promise: nil)
        }
        for child in children {
            try? await child.closeFuture.get()
        }
        self.core.logger.debug("fake app server stopped", metadata: ["connections_closed": "\(children.count)"])
    }

    // MARK: Behavior

    /// The default behavior (for paths without their own, see ``setBehavior(_:forPath:)``).
    public var behavior: Behavior {
        self.core.state.withLock { $0.behavior }
    }

    /// Changes the default behavior for requests whose head arrives from now on.
    public func setBehavior(_ behavior: Behavior) {
        self.core.state.withLock { $0.behavior = behavior }
    }

    /// Gives requests for exactly `path` (the URI without query) their own behavior, e.g. a health
    /// check path that keeps answering 200 while everything else hangs. `nil` removes it.
    public func setBehavior(_ behavior: Behavior?, forPath path: String) {
        self.core.state.withLock { $0.pathBehaviors[path] = behavior }
    }

    // MARK: Records

    /// Every request received so far, in arrival order.
    public var requests: [RecordedRequest] {
        self.core.state.withLock { $0.requests }
    }

    /// The most recent request, if any.
    public var lastRequest: RecordedRequest? {
        self.core.state.withLock { $0.requests.last }
    }

    /// Number of request heads received.
    public var requestCount: Int {
        self.core.state.withLock { $0.requests.count }
    }

    /// Number of TCP connections accepted so far.
    public var connectionCount: Int {
        self.core.state.withLock { $0.connectionCount }
    }

    /// Number of connections currently open.
    public var openConnectionCount: Int {
        self.core.state.withLock { $0.openChannels.count }
    }

    /// Response body bytes handed to NIO so far, over all responses (a download's progress).
    public var responseBodyBytesWritten: Int {
        self.core.state.withLock { $0.responseBodyBytesWritten }
    }

    /// Forgets the recorded requests (counters of connections are kept).
    public func clearRecordedRequests() {
        self.core.state.withLock { $0.requests.removeAll() }
    }

    // MARK: Ports

    /// A loopback port with nothing listening on it (bind port 0, read the port, close), for
    /// "connection refused" tests. Should that ever fail, port 1 (tcpmux, never served here) is returned.
    /// `count` distinct ports that were free a moment ago (for a child process's listeners).
    public static func unusedPorts(_ count: Int) -> [Int] {
        var ports: [Int] = []
        var tries = 0
        while ports.count < count {
            let port = self.unusedPort()
            tries += 1
            if !ports.contains(port) || tries > 64 * count { ports.append(port) }
        }
        return ports
    }

    public static func unusedPort() -> Int {
        if let port = POSIXSocket.pickUnusedPort(host: "127.0.0.1") {
            return port
        }
        Logger(label: "switchyard.test-support.fake-app-server")
            .warning("could not pick an unused port, falling back to port 1")
        return 1
    }
}

public enum FakeAppServerError: Error, Sendable, CustomStringConvertible {
    case stopped(name: String)
    case noLocalAddress(name: String)

    public var description: String {
        switch self {
        case .stopped(let name): return "fake app server \(name) is stopped"
        case .noLocalAddress(let name): return "fake app server \(name) has no local address after bind"
        }
    }
}

/// State shared between the server object and its connection handlers.
final class FakeAppServerCore: Sendable {
    struct State {
        var behavior: FakeAppServer.Behavior
        var pathBehaviors: [String: FakeAppServer.Behavior] = [:]
        var requests: [FakeAppServer.RecordedRequest] = []
        var connectionCount = 0
        var openChannels: [Int: any Channel] = [:]
        var responseBodyBytesWritten = 0
        var stopped = false
    }

    let name: String
    let logger: Logger
    let state: Mutex<State>

    init(name: String, behavior: FakeAppServer.Behavior, logger: Logger) {
        self.name = name
        self.logger = logger
        self.state = Mutex(State(behavior: behavior))
    }

    func behavior(forURI uri: String) -> FakeAppServer.Behavior {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        return self.state.withLock { $0.pathBehaviors[path] ?? $0.behavior }
    }

    /// Registers an accepted connection; nil once the server is stopping.
    func connectionOpened(_ channel: any Channel) -> Int? {
        self.state.withLock { state in
            guard !state.stopped else { return nil }
            state.connectionCount += 1
            state.openChannels[state.connectionCount] = channel
            return state.connectionCount
        }
    }

    func connectionClosed(_ id: Int) {
        _ = self.state.withLock { $0.openChannels.removeValue(forKey: id) }
    }

    func markStopped() {
        self.state.withLock { $0.stopped = true }
    }

    func openChannels() -> [any Channel] {
        self.state.withLock { Array($0.openChannels.values) }
    }

    func recordHead(_ head: HTTPRequestHead, connectionID: Int) -> Int {
        let record = FakeAppServer.RecordedRequest(
            method: head.method.rawValue,
            uri: head.uri,
            version: "HTTP/\(head.version.major).\(head.version.minor)",
            headers: head.headers.map { ($0.name, $0.value) },
            bodyBytes: 0,
            body: [],
            isComplete: false,
            connectionID: connectionID
        )
        return self.state.withLock { state in
            state.requests.append(record)
            return state.requests.count - 1
        }
    }

    func recordBody(_ index: Int, _ buffer: ByteBuffer) {
        self.state.withLock { state in
            guard state.requests.indices.contains(index) else { return }
            state.requests[index].bodyBytes += buffer.readableBytes
            if state.requests[index].bodyBytes <= FakeAppServer.bodyCaptureLimit {
                state.requests[index].body?.append(contentsOf: buffer.readableBytesView)
            } else {
                state.requests[index].body = nil
            }
        }
    }

    func recordEnd(_ index: Int) {
        self.state.withLock { state in
            guard state.requests.indices.contains(index) else { return }
            state.requests[index].isComplete = true
        }
    }

    func addResponseBodyBytes(_ count: Int) {
        self.state.withLock { $0.responseBodyBytesWritten += count }
    }
}
