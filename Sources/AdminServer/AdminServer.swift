import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The admin listener (SPEC §7): a small SwiftNIO HTTP/1.1 server for
/// `/healthz`, `/status`, `/metrics`, `POST /replicas/NAME/drain|undrain`,
/// the dashboard `/` and its data `/dashboard.json`.
///
/// With ``Configuration/token`` set, every endpoint but `/healthz` needs
/// `Authorization: Bearer <token>` (compared in constant time; 401 with
/// `WWW-Authenticate: Bearer` otherwise). Because a browser cannot add that
/// header to a page load, `/` and `/dashboard.json` — and only those — also
/// take the token as `?token=<token>` (percent-encoded; `+` is a plus): open
/// `http://ADMIN/?token=…` and the page sends it along on its own requests.
/// Such URLs end up in browser history and possibly proxy logs: prefer a
/// loopback-only admin listener or an SSH tunnel where that matters.
///
/// It stays up while the proxy drains for shutdown (`/healthz` answers 503 then),
/// until ``stop()``.
public final class AdminServer: Sendable {
    public struct Configuration: Sendable {
        /// The bearer token; nil (or empty) leaves the endpoints open.
        public var token: String?
        /// Larger request bodies get 413 (admin requests carry none worth the name).
        public var maxBodyBytes: Int
        /// Idle keep-alive connections are closed after this.
        public var idleTimeout: Duration
        /// How much lag history `/dashboard.json` sends (the chart's span).
        public var dashboardWindow: Duration
        /// How many recent decisions `/dashboard.json` sends.
        public var dashboardDecisions: Int

        public init(
            token: String? = nil,
            maxBodyBytes: Int = 64 * 1024,
            idleTimeout: Duration = .seconds(60),
            dashboardWindow: Duration = .seconds(300),
            dashboardDecisions: Int = 20
        ) {
            self.token = token
            self.maxBodyBytes = maxBodyBytes
            self.idleTimeout = idleTimeout
            self.dashboardWindow = dashboardWindow
            self.dashboardDecisions = dashboardDecisions
        }
    }

    public let configuration: Configuration
    private let router: AdminRouter
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = Mutex<(listener: (any Channel)?, children: [ObjectIdentifier: any Channel])>((nil, [:]))

    /// - Parameters:
    ///   - backend: the running router's state and drain controls.
    ///   - metrics: what `/metrics` renders.
    ///   - group: the event loops to serve on (the app's, or the shared singleton).
    public init(
        backend: any AdminBackend,
        metrics: SwitchyardMetrics,
        configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "switchyard.admin")
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.router = AdminRouter(
            backend: backend, metrics: metrics, token: configuration.token.flatMap(BearerToken.init),
            dashboardWindowMillis: AdminServer.millis(configuration.dashboardWindow),
            dashboardDecisions: configuration.dashboardDecisions, logger: logger)
    }

    /// Binds and starts serving; returns the bound port (port 0 picks one).
    public func start(host: String, port: Int) async throws -> Int {
        let router = self.router
        let maxBodyBytes = self.configuration.maxBodyBytes
        let idle = TimeAmount.milliseconds(Int64(AdminServer.millis(self.configuration.idleTimeout)))
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(readTimeout: idle))
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try sync.addHandler(AdminHTTPHandler(router: router, maxBodyBytes: maxBodyBytes))
                    self?.track(channel)
                }
            }
        let listener = try await bootstrap.bind(host: host, port: port).get()
        self.state.withLock { $0.listener = listener }
        guard let bound = listener.localAddress?.port else {
            try? await listener.close()
            throw ChannelError.unknownLocalAddress
        }
        self.logger.info(
            "admin listening",
            metadata: ["listen": "\(host):\(bound)", "token": "\(self.configuration.token?.isEmpty == false ? "required" : "none")"])
        return bound
    }

    /// Stops accepting and closes every connection.
    public func stop() async {
        let (listener, children) = self.state.withLock { state in
            defer {
                state.listener = nil
                state.children = [:]
            }
            return (state.listener, Array(state.children.values))
        }
        try? await listener?.close()
        for child in children {
            try? await child.close()
        }
    }

    private func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        self.state.withLock { $0.children[key] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.children.removeValue(forKey: key) }
        }
    }

    static func millis(_ duration: Duration) -> UInt64 {
        let parts = duration.components
        return UInt64(max(0, parts.seconds)) * 1000 + UInt64(max(0, parts.attoseconds) / 1_000_000_000_000_000)
    }
}
