import HTTPProxy
import Logging
import NIOCore
import NIOPosix
import SwitchyardCore
import SwitchyardLogging
import SwitchyardTestSupport

/// The proxy in-process on 127.0.0.1:0 in front of fake app servers: `primary` (p1, p2),
/// `replica-a` (a1, a2) and optionally `replica-b` (b1, b2). No database: both replicas are in
/// rotation; only app-server health moves traffic.
final class InProcessStack: Sendable {
    static let pinKey: [UInt8] = Array("reliability-secret".utf8)

    let primaries: [FakeAppServer]
    let replicaA: [FakeAppServer]
    let replicaB: [FakeAppServer]
    let server: HTTPProxyServer
    let runtime: ProxyRuntime
    let decisions: MemoryLogSink
    let port: Int
    let group: MultiThreadedEventLoopGroup
    let configuration: SwitchyardConfiguration

    private init(
        primaries: [FakeAppServer], replicaA: [FakeAppServer], replicaB: [FakeAppServer], server: HTTPProxyServer,
        runtime: ProxyRuntime, decisions: MemoryLogSink, port: Int, group: MultiThreadedEventLoopGroup,
        configuration: SwitchyardConfiguration
    ) {
        self.primaries = primaries
        self.replicaA = replicaA
        self.replicaB = replicaB
        self.server = server
        self.runtime = runtime
        self.decisions = decisions
        self.port = port
        self.group = group
        self.configuration = configuration
    }

    /// Short timeouts so that faults resolve within a test: connect 500 ms, response 2 s, fail_timeout 1 s.
    static let faultUpstream = UpstreamConfiguration(
        connectTimeout: .milliseconds(500), responseTimeout: .seconds(2), retries: 2, maxFails: 1, failTimeout: .seconds(1))

    static func start(withReplicaB: Bool = false, upstream: UpstreamConfiguration = InProcessStack.faultUpstream) async throws -> InProcessStack {
        let primaries = [try await FakeAppServer.start(name: "p1"), try await FakeAppServer.start(name: "p2")]
        let replicaA = [try await FakeAppServer.start(name: "a1"), try await FakeAppServer.start(name: "a2")]
        let replicaB = withReplicaB ? [try await FakeAppServer.start(name: "b1"), try await FakeAppServer.start(name: "b2")] : []
        func servers(_ fakes: [FakeAppServer]) -> [UpstreamServer] {
            fakes.map { UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: $0.port)) }
        }
        var replicas = [ReplicaConfiguration(name: "replica-a", database: "host=127.0.0.1", servers: servers(replicaA))]
        if withReplicaB {
            replicas.append(ReplicaConfiguration(name: "replica-b", database: "host=127.0.0.1", servers: servers(replicaB)))
        }
        let configuration = SwitchyardConfiguration(
            listen: ServerAddress(host: "127.0.0.1", port: 0),
            log: LogConfiguration(decisionHeader: true),
            primary: PrimaryConfiguration(database: "host=127.0.0.1", servers: servers(primaries)),
            replicas: replicas,
            pin: PinConfiguration(mode: .ttl),
            upstream: upstream
        )
        let decisions = MemoryLogSink()
        var logger = Logger(label: "switchyard.test.reliability")
        logger.logLevel = .critical
        let runtime = ProxyRuntime(configuration: configuration, pinKey: Self.pinKey, decisionSink: decisions, logger: logger, positionSource: nil)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = HTTPProxyServer(runtime: runtime, group: group)
        let address = try await server.start(host: "127.0.0.1", port: 0)
        return InProcessStack(
            primaries: primaries, replicaA: replicaA, replicaB: replicaB, server: server, runtime: runtime,
            decisions: decisions, port: address.port ?? 0, group: group, configuration: configuration)
    }

    var allServers: [FakeAppServer] { self.primaries + self.replicaA + self.replicaB }

    func stop() async {
        await self.server.drain(timeout: .seconds(2))
        try? await self.group.shutdownGracefully()
        for fake in self.allServers {
            await fake.stop()
        }
    }
}
