import HTTPProxy
import Logging
import NIOCore
import NIOPosix
import SwitchyardCore
import SwitchyardLogging
import SwitchyardTestSupport

/// The proxy on 127.0.0.1:0 in front of in-process fake app servers:
/// `primary` (two servers), `replica-a` (two servers) and optionally `replica-b`.
final class ProxyHarness: Sendable {
    static let pinKey: [UInt8] = Array("test-secret-shared-by-instances".utf8)

    let primaries: [FakeAppServer]
    let replicaA: [FakeAppServer]
    let replicaB: [FakeAppServer]
    let server: HTTPProxyServer
    let runtime: ProxyRuntime
    let decisions: MemoryLogSink
    let port: Int
    let group: MultiThreadedEventLoopGroup
    let healthChecker: ActiveHealthChecker

    private init(
        primaries: [FakeAppServer], replicaA: [FakeAppServer], replicaB: [FakeAppServer], server: HTTPProxyServer,
        runtime: ProxyRuntime, decisions: MemoryLogSink, port: Int, group: MultiThreadedEventLoopGroup
    ) {
        self.primaries = primaries
        self.replicaA = replicaA
        self.replicaB = replicaB
        self.server = server
        self.runtime = runtime
        self.decisions = decisions
        self.port = port
        self.group = group
        self.healthChecker = ActiveHealthChecker(runtime: runtime, eventLoop: group.next())
        self.healthChecker.restart()
    }

    /// - Parameter configure: adjusts the configuration built around the fake servers.
    static func start(
        replicaBServers: Int = 0,
        positionSource: (any PrimaryPositionSource)? = nil,
        configure: (inout SwitchyardConfiguration) -> Void = { _ in }
    ) async throws -> ProxyHarness {
        let primaries = [try await FakeAppServer.start(name: "p1"), try await FakeAppServer.start(name: "p2")]
        let replicaA = [try await FakeAppServer.start(name: "a1"), try await FakeAppServer.start(name: "a2")]
        var replicaB: [FakeAppServer] = []
        for index in 0..<replicaBServers {
            replicaB.append(try await FakeAppServer.start(name: "b\(index + 1)"))
        }
        func servers(_ fakes: [FakeAppServer]) -> [UpstreamServer] {
            fakes.map { UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: $0.port)) }
        }
        var replicas = [ReplicaConfiguration(name: "replica-a", database: "host=127.0.0.1", servers: servers(replicaA))]
        if !replicaB.isEmpty {
            replicas.append(ReplicaConfiguration(name: "replica-b", database: "host=127.0.0.1", servers: servers(replicaB)))
        }
        var configuration = SwitchyardConfiguration(
            listen: ServerAddress(host: "127.0.0.1", port: 0),
            primary: PrimaryConfiguration(database: "host=127.0.0.1", servers: servers(primaries)),
            replicas: replicas,
            pin: PinConfiguration(mode: .ttl),
            upstream: UpstreamConfiguration(connectTimeout: .milliseconds(500), responseTimeout: .seconds(5), failTimeout: .seconds(30))
        )
        configure(&configuration)
        let decisions = MemoryLogSink()
        var logger = Logger(label: "switchyard.test")
        logger.logLevel = .critical
        let runtime = ProxyRuntime(configuration: configuration, pinKey: ProxyHarness.pinKey, decisionSink: decisions, logger: logger, positionSource: positionSource)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = HTTPProxyServer(runtime: runtime, group: group)
        let address = try await server.start(host: "127.0.0.1", port: 0)
        return ProxyHarness(
            primaries: primaries, replicaA: replicaA, replicaB: replicaB, server: server, runtime: runtime,
            decisions: decisions, port: address.port ?? 0, group: group)
    }

    func client(cookies: CookieJar = CookieJar()) -> TestHTTPClient {
        TestHTTPClient(port: self.port, cookies: cookies, defaultHeaders: [("Host", "app.test")])
    }

    func raw() async throws -> RawHTTPClient {
        try await RawHTTPClient.connect(port: self.port)
    }

    var primaryRequests: Int { self.primaries.reduce(0) { $0 + $1.requestCount } }
    var replicaRequests: Int { (self.replicaA + self.replicaB).reduce(0) { $0 + $1.requestCount } }
    var allServers: [FakeAppServer] { self.primaries + self.replicaA + self.replicaB }

    /// The decision lines, parsed into flat string maps. A loop hands its
    /// lines to the sink when its turn ends, which can be just after a client
    /// has the response; an empty task on every loop runs after that hand-over
    /// (tasks run in order), so every response received so far has its line.
    var decisionLines: [[String: String]] {
        for loop in self.group.makeIterator() {
            try? loop.submit {}.wait()
        }
        return self.decisions.lines.map(FlatJSON.parse)
    }

    func stop() async {
        self.healthChecker.stop()
        await self.server.drain(timeout: .seconds(2))
        try? await self.group.shutdownGracefully()
        for fake in self.allServers {
            await fake.stop()
        }
    }
}

