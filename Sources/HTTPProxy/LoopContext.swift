import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardCore

/// Per event loop state: its balancers and its keep-alive pools, one per
/// server (like an nginx worker: nothing here is shared or locked).
final class LoopContext {
    let eventLoop: any EventLoop
    private var idle: [ObjectIdentifier: [UpstreamConnection]] = [:]
    private var balancerGeneration = -1
    private var primaryBalancer = Balancer(.roundRobin, weights: [])
    private var replicaBalancer = Balancer(.roundRobin, weights: [])
    /// Pin cookies this loop has verified (a pinned client repeats its cookie on every request).
    var pinCache = PinVerificationCache()
    /// The array the last decision line was built in, kept for the next one.
    var decisionLineStorage: [UInt8] = []

    /// The header and idle timeouts of this loop's client connections.
    let clientTimeouts: ClientTimeoutSweep

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.clientTimeouts = ClientTimeoutSweep(eventLoop: eventLoop)
    }

    // MARK: Balancing

    private func refreshBalancers(_ snapshot: ProxySnapshot) {
        guard self.balancerGeneration != snapshot.generation else { return }
        self.balancerGeneration = snapshot.generation
        let balance = snapshot.configuration.routing.balance
        self.primaryBalancer = Balancer(balance, weights: snapshot.primaryWeights)
        self.replicaBalancer = Balancer(balance, weights: snapshot.flatReplicaWeights)
    }

    func pickPrimary(_ snapshot: ProxySnapshot, now: UInt64, excluding tried: TriedServers) -> UpstreamServerState? {
        self.refreshBalancers(snapshot)
        let servers = snapshot.primaryServers
        let index = self.primaryBalancer.pick(
            active: { servers[$0].active },
            isEligible: { servers[$0].isUp(now: now) && !tried.contains(ObjectIdentifier(servers[$0])) }
        )
        return index.map { servers[$0] }
    }

    func pickReplica(
        _ snapshot: ProxySnapshot,
        replicas: ReplicaSet,
        now: UInt64,
        excluding tried: TriedServers
    ) -> (replica: Int, server: UpstreamServerState)? {
        self.refreshBalancers(snapshot)
        let servers = snapshot.flatReplicaServers
        let index = self.replicaBalancer.pick(
            active: { servers[$0].server.active },
            isEligible: {
                replicas.contains(servers[$0].replica) && servers[$0].server.isUp(now: now)
                    && !tried.contains(ObjectIdentifier(servers[$0].server))
            }
        )
        return index.map { servers[$0] }
    }

    // MARK: Keep-alive pools

    func takeIdle(_ server: UpstreamServerState) -> UpstreamConnection? {
        let key = ObjectIdentifier(server)
        // Mutated in place through the dictionary's accessor: copying the list
        // out and back cost a copy of every pooled connection per request.
        while let connection = self.idle[key]?.popLast() {
            connection.idlePool = nil
            if connection.isUsable {
                return connection
            }
        }
        return nil
    }

    /// Returns a connection to its server's pool (most recently used last).
    /// No timer per connection: `sweep` closes the ones idle too long.
    func release(_ connection: UpstreamConnection, keepalive: Int, idleTimeout: TimeAmount) {
        guard connection.isUsable, keepalive > 0 else {
            connection.close()
            return
        }
        let key = ObjectIdentifier(connection.server)
        if let count = self.idle[key]?.count, count >= keepalive, let oldest = self.idle[key]?.removeFirst() {
            // Keep the most recently used ones (nginx's behaviour): drop the oldest.
            oldest.idlePool = nil
            oldest.close()
        }
        connection.delegate = nil
        connection.idlePool = self
        connection.idleSince = NIODeadline.now()
        self.idleTimeout = idleTimeout
        self.idle[key, default: []].append(connection)
        // Reads may have been held for the last exchange's client: an idle
        // connection must keep reading so a close (or stray bytes) is seen.
        connection.resumeReads()
        self.startSweepingIfNeeded()
    }

    /// Called by a pooled connection that closed while idle.
    func remove(_ connection: UpstreamConnection) {
        let key = ObjectIdentifier(connection.server)
        self.idle[key]?.removeAll { $0 === connection }
    }

    private var idleTimeout = TimeAmount.seconds(60)
    private var sweeper: RepeatedTask?

    private func startSweepingIfNeeded() {
        guard self.sweeper == nil else { return }
        let every = TimeAmount.nanoseconds(max(10_000_000, min(1_000_000_000, self.idleTimeout.nanoseconds / 2)))
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.sweeper = self.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
            bound.value.sweep()
        }
    }

    /// Closes pooled connections idle for longer than `upstream.idle_timeout`.
    private func sweep() {
        let cutoff = NIODeadline.now() - self.idleTimeout
        var expired: [UpstreamConnection] = []
        for (key, list) in self.idle {
            // Lists are ordered by release time: the expired ones are at the front.
            let stale = list.prefix { $0.idleSince <= cutoff }
            guard !stale.isEmpty else { continue }
            expired.append(contentsOf: stale)
            self.idle[key] = Array(list.dropFirst(stale.count))
        }
        for connection in expired {
            connection.idlePool = nil
            connection.close()
        }
    }

    /// Closes every idle connection (shutdown).
    func closeIdle() {
        self.clientTimeouts.cancel()
        self.sweeper?.cancel()
        self.sweeper = nil
        let all = self.idle.values.flatMap { $0 }
        self.idle.removeAll()
        for connection in all {
            connection.idlePool = nil
            connection.close()
        }
    }

    func connect(_ server: UpstreamServerState, timeout: TimeAmount) -> EventLoopFuture<UpstreamConnection> {
        guard let address = server.socketAddress else {
            return self.eventLoop.makeFailedFuture(ProxyFailure.Cause.unresolvable)
        }
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No NIO HTTP handlers: requests go out as the bytes the proxy handler
                    // encoded (the client's header lines, validated by ClientRequestParser,
                    // and ours, built from validated configuration), responses are parsed
                    // as bytes by UpstreamConnection.
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnection(server: server))
                }
            }
        return bootstrap.connect(to: address).flatMapThrowing { channel in
            try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
        }
    }
}
