import AdminServer
import HTTPProxy
import LagMonitor
import Logging
import NIOCore
import NIOPosix
import SwitchyardConfig
import SwitchyardCore
import SwitchyardLogging
import Synchronization

/// The composition root: loads the configuration, builds the services, serves,
/// reloads on a trigger (SIGHUP) and drains on another (SIGTERM/SIGINT).
public final class SwitchyardApp: Sendable {
    public enum Event: Sendable {
        case reload
        case shutdown
    }

    public static let version = "0.1.0"

    public let configurationPath: String
    public let logger: Logger
    public let proxy: HTTPProxyServer
    public let runtime: ProxyRuntime
    public let monitor: LagMonitor
    private let healthChecker: ActiveHealthChecker
    public let metrics: SwitchyardMetrics
    private let history: DashboardHistory
    private let admin: AdminServer?
    private let group: MultiThreadedEventLoopGroup
    private let monitorTask = Mutex<Task<Void, Never>?>(nil)
    private let initialConfiguration: SwitchyardConfiguration

    /// Builds the app from a validated configuration. The caller owns logging
    /// bootstrap. `threads` overrides the configuration's `event_loops` (tests).
    public init(
        configurationPath: String,
        configuration: SwitchyardConfiguration,
        secrets: Secrets,
        decisionSink: any LogLineSink,
        logger: Logger,
        threads: Int? = nil
    ) {
        let loops = threads ?? configuration.eventLoops.resolved(usableCPUs: CPUAffinity.usableCPUs(fallback: System.coreCount))
        self.configurationPath = configurationPath
        self.initialConfiguration = configuration
        self.logger = logger
        self.eventLoopCount = max(1, loops)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: self.eventLoopCount)
        let metrics = SwitchyardMetrics()
        let history = DashboardHistory(thresholds: LagThresholds(configuration.lag))
        self.metrics = metrics
        self.history = history
        let board = BoardPublisher(metrics: metrics, history: history)
        let monitor = LagMonitor(configuration: configuration, logger: logger) { report in board.publish(report) }
        self.monitor = monitor
        let observer = AppObserver(metrics: metrics)
        self.runtime = ProxyRuntime(
            configuration: configuration, pinKey: secrets.pinKey, decisionSink: decisionSink, logger: logger,
            observer: observer, positionSource: monitor.positionSource)
        board.attach(self.runtime)
        self.proxy = HTTPProxyServer(runtime: self.runtime, group: self.group)
        self.healthChecker = ActiveHealthChecker(runtime: self.runtime, eventLoop: self.group.next())
        if configuration.admin != nil {
            // The admin listener lives on its own loops: it must outlive the proxy's during a drain.
            self.admin = AdminServer(
                backend: AppAdminBackend(
                    runtime: self.runtime, monitor: monitor, metrics: metrics, history: history, observer: observer),
                metrics: metrics, configuration: AdminServer.Configuration(token: secrets.adminToken),
                group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        } else {
            self.admin = nil
        }
        if secrets.pinKeyIsRandom {
            logger.warning(
                "pin secret not set: using a random key for this process; pins will not survive a restart or be honoured by other instances",
                metadata: ["secret_env": "\(configuration.pin.secretEnv)"]
            )
        }
    }

    /// The admin listener's bound port, once started (nil without an `admin` section).
    public var adminPort: Int? {
        self.adminPortBox.withLock { $0 }
    }
    private let adminPortBox = Mutex<Int?>(nil)

    /// The event loops serving clients (`event_loops`, resolved at start).
    public let eventLoopCount: Int

    /// Polls every database once (bounded by `query_timeout`), starts the lag
    /// monitor, then starts listening; returns the bound port.
    public func start() async throws -> Int {
        await self.monitor.pollOnce()
        let monitor = self.monitor
        self.monitorTask.withLock { task in
            task = Task { await monitor.run() }
        }
        self.healthChecker.restart()
        if let admin = self.admin, let adminConfiguration = self.initialConfiguration.admin {
            let port = try await admin.start(host: adminConfiguration.listen.host, port: adminConfiguration.listen.port)
            self.adminPortBox.withLock { $0 = port }  // the admin server logs "admin listening" itself
        }
        let listen = self.initialConfiguration.listen
        let address = try await self.proxy.start(host: listen.host, port: listen.port)
        let port = address.port ?? listen.port
        self.logger.info(
            "switchyard listening",
            metadata: [
                "listen": "\(listen.host):\(port)", "replicas": "\(self.initialConfiguration.replicas.count)",
                "primary_servers": "\(self.initialConfiguration.primary.servers.count)",
                "event_loops": "\(self.eventLoopCount)",
            ]
        )
        return port
    }

    /// Serves until a `.shutdown` event, applying `.reload` events as they come.
    public func run(events: some AsyncSequence<Event, Never>) async {
        for await event in events {
            switch event {
            case .reload:
                self.reload()
            case .shutdown:
                await self.shutdown()
                return
            }
        }
        await self.shutdown()
    }

    /// Re-reads the file: a valid one applies to new requests; an invalid one is
    /// logged with every problem and the running configuration stays.
    public func reload() {
        let current = self.runtime.snapshot.configuration
        do {
            let next = try ConfigLoader.load(path: self.configurationPath)
            if next.listen != current.listen {
                self.logger.warning(
                    "reload: listen address changed; this needs a restart and is ignored",
                    metadata: ["running": "\(current.listen)", "file": "\(next.listen)"])
            }
            if next.eventLoops != current.eventLoops {
                self.logger.warning(
                    "reload: event_loops changed; this needs a restart and is ignored",
                    metadata: ["running": "\(current.eventLoops)", "file": "\(next.eventLoops)"])
            }
            var applied = next
            applied.listen = current.listen
            applied.eventLoops = current.eventLoops
            applied.clients = ClientsConfiguration(
                trustedProxies: next.clients.trustedProxies,
                maxHeaderBytes: current.clients.maxHeaderBytes,
                maxBodyBytes: next.clients.maxBodyBytes,
                headerTimeout: current.clients.headerTimeout,
                idleTimeout: current.clients.idleTimeout,
                maxConnections: current.clients.maxConnections
            )
            self.runtime.apply(configuration: applied)
            self.monitor.apply(configuration: applied)
            self.healthChecker.restart()
            self.history.setThresholds(LagThresholds(applied.lag))
            self.history.retain(replicas: applied.replicas.map(\.name))
            self.logger.notice("configuration reloaded", metadata: ["file": "\(self.configurationPath)"])
        } catch {
            for problem in error.problems {
                self.logger.error("reload failed; keeping the running configuration", metadata: ["problem": "\(problem)"])
            }
        }
    }

    public func shutdown() async {
        let timeout = self.runtime.snapshot.configuration.drainTimeout
        self.logger.notice("draining", metadata: ["drain_timeout_s": "\(timeout.components.seconds)"])
        await self.proxy.drain(timeout: timeout)
        self.monitorTask.withLock { $0?.cancel() }
        self.healthChecker.stop()
        try? await self.group.shutdownGracefully()
        // Last: /healthz answers 503 until here.
        await self.admin?.stop()
        self.logger.notice("stopped")
    }
}
