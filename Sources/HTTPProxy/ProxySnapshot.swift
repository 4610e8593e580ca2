import Atomics
import SwitchyardCore

/// Everything the request path needs from the configuration, built once per
/// (re)load and swapped atomically. Immutable.
public final class ProxySnapshot: AtomicReference, Sendable {
    public let generation: Int
    public let configuration: SwitchyardConfiguration
    public let router: RequestRouter
    public let signer: PinSigner
    public let primaryServers: [UpstreamServerState]
    /// Per configured replica, its servers.
    public let replicaServers: [[UpstreamServerState]]
    /// Every replica server, flattened, with the index of its replica (the read balancer's peer list).
    public let flatReplicaServers: [(replica: Int, server: UpstreamServerState)]
    public let primaryWeights: [Int]
    /// `primaryServers`, `replicaServers` and `flatReplicaServers` as the
    /// balancer and the replica availability ask about them on every request
    /// (`ServerPeer`: without a retain and a release per server per question).
    /// The arrays above keep these servers alive as long as the snapshot.
    let primaryPeers: [ServerPeer]
    let replicaPeers: [[ServerPeer]]
    let flatReplicaPeers: [ServerPeer]
    public let flatReplicaWeights: [Int]
    public let ttlMillis: UInt64
    /// `Set-Cookie` attributes after the value: `; Max-Age=10; Path=/; HttpOnly; SameSite=Lax`.
    public let cookieAttributes: String
    public let connectTimeoutNanos: Int64
    public let responseTimeoutNanos: Int64
    /// `upstream.idle_timeout` (a pooled connection's, set per request).
    public let idleTimeoutNanos: Int64
    public let failTimeoutNanos: UInt64

    /// - Parameter previous: servers whose address and pool are unchanged keep their health state.
    public init(generation: Int, configuration: SwitchyardConfiguration, pinKey: [UInt8], previous: ProxySnapshot?) {
        self.generation = generation
        self.configuration = configuration
        self.router = RequestRouter(configuration: configuration.routing, pinMode: configuration.pin.mode)
        self.signer = PinSigner(key: pinKey)
        var reusable: [String: UpstreamServerState] = [:]
        if let previous {
            for server in previous.primaryServers + previous.replicaServers.flatMap({ $0 }) {
                reusable[server.pool + " " + server.address.description] = server
            }
        }
        func state(_ server: UpstreamServer, pool: String) -> UpstreamServerState {
            reusable[pool + " " + server.address.description] ?? UpstreamServerState(address: server.address, pool: pool)
        }
        self.primaryServers = configuration.primary.servers.map { state($0, pool: "primary") }
        self.primaryWeights = configuration.primary.servers.map(\.weight)
        self.replicaServers = configuration.replicas.map { replica in replica.servers.map { state($0, pool: replica.name) } }
        var flat: [(replica: Int, server: UpstreamServerState)] = []
        var flatWeights: [Int] = []
        for (index, replica) in configuration.replicas.enumerated() {
            for (serverIndex, server) in replica.servers.enumerated() {
                flat.append((index, self.replicaServers[index][serverIndex]))
                flatWeights.append(server.weight)
            }
        }
        self.flatReplicaServers = flat
        self.primaryPeers = self.primaryServers.map { ServerPeer($0) }
        self.replicaPeers = self.replicaServers.enumerated().map { index, servers in servers.map { ServerPeer($0, replica: index) } }
        self.flatReplicaPeers = flat.map { ServerPeer($0.server, replica: $0.replica) }
        self.flatReplicaWeights = flatWeights
        self.ttlMillis = ProxySnapshot.millis(configuration.pin.ttl)
        let maxAge = (self.ttlMillis + 999) / 1000
        var attributes = "; Max-Age=\(maxAge); Path=\(configuration.pin.path); HttpOnly; SameSite=\(configuration.pin.sameSite.rawValue)"
        if configuration.pin.secure {
            attributes += "; Secure"
        }
        self.cookieAttributes = attributes
        self.connectTimeoutNanos = ProxySnapshot.nanos(configuration.upstream.connectTimeout)
        self.responseTimeoutNanos = ProxySnapshot.nanos(configuration.upstream.responseTimeout)
        self.idleTimeoutNanos = ProxySnapshot.nanos(configuration.upstream.idleTimeout)
        self.failTimeoutNanos = UInt64(max(0, ProxySnapshot.nanos(configuration.upstream.failTimeout)))
    }

    public static func nanos(_ duration: Duration) -> Int64 {
        duration.totalNanoseconds
    }

    public static func millis(_ duration: Duration) -> UInt64 {
        duration.totalMilliseconds
    }
}
