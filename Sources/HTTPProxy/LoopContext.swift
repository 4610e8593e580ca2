import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardCore
import SwitchyardLogging

/// Per event loop state: its balancers and its keep-alive pools, one per
/// server (like an nginx worker: nothing here is shared or locked).
///
/// Exclusivity: the mutable state that every request touches, here and on
/// `Exchange`, `ProxyServerHandler`, `UpstreamResponseParser` and
/// `ClientTimeoutSweep`, is marked `@exclusivity(unchecked)`. Each of these
/// objects belongs to one event loop (no other thread reaches it), and the
/// code that runs during an access to one of these properties (a mutating
/// method, an `inout` argument) is the standard library's collections, the
/// parsers, the balancers and the pin cache, none of which can reach the
/// object holding them: no two accesses can overlap. Unmarked, every access
/// that spans a call is checked at run time (`swift_beginAccess` and a
/// thread-local access set): 114 checks per small GET, 77 with the marks
/// (the rest are SwiftNIO's own).
final class LoopContext {
    let eventLoop: any EventLoop
    /// Each server's idle keep-alive connections on this loop, most recently
    /// used last, indexed by `UpstreamServerState.ordinal` (empty for servers
    /// this loop has pooled nothing for). Taking and returning one mutates a
    /// list in place through `Array`'s subscript (no allocation: it was a
    /// `Dictionary`, whose `_modify` allocated three coroutine frames per
    /// call). The lists are arrays, not objects: an object per list was
    /// retained and released each time one was read out (4 atomic operations
    /// per request).
    @exclusivity(unchecked) private var idle: [[UpstreamConnection]] = []
    private var balancerGeneration = -1
    @exclusivity(unchecked) private var primaryBalancer = Balancer(.roundRobin, weights: [])
    @exclusivity(unchecked) private var replicaBalancer = Balancer(.roundRobin, weights: [])
    /// Pin cookies this loop has verified (a pinned client repeats its cookie on every request).
    @exclusivity(unchecked) var pinCache = PinVerificationCache()
    /// The decision log's wall-clock time, derived from the monotonic reading
    /// each request already has.
    @exclusivity(unchecked) var wallClock = WallClockEstimate()
    /// The decision lines' date and time, formatted once a second.
    @exclusivity(unchecked) var timestamps = TimestampCache()
    /// The snapshot, the replica board and its entries as this loop last read them.
    @exclusivity(unchecked) var published = PublishedStateCache()
    /// Decision lines written on this loop and not yet handed to the sink (see `logDecision`).
    @exclusivity(unchecked) private var decisionBatch: [UInt8] = []
    /// Where each decision line is written before it joins the batch (see
    /// `DecisionRecord.appendLogLine`); a longer line takes temporary memory.
    private let decisionLineScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
    private var decisionHandOverQueued = false
    private let decisionSink: any LogLineSink
    /// Told of each request this loop finishes (metrics, the dashboard's recent decisions).
    let observer: (any LoopObserver)?
    /// Past this, the batch goes to the sink at once rather than at the end of the turn.
    static let decisionBatchBytes = 32 * 1024
    /// The header lines of the request head being parsed on this loop (see
    /// `ClientRequestParser.next(lineScratch:)`): one array per loop, not per
    /// request or per connection.
    @exclusivity(unchecked) var headLineScratch: [HeadLines.Line] = []
    /// Buffers that held a request or response head, kept for the next ones
    /// (see `headBuffer` and `recycle`).
    @exclusivity(unchecked) private var spareHeadBuffers: [ByteBuffer] = []
    static let spareHeadBufferCount = 64
    static let spareHeadBufferCapacity = 8 * 1024

    /// What every channel here allocates with (none is given another
    /// allocator): taken from here, a head's buffer costs no trip to the channel.
    let allocator = ByteBufferAllocator()

    /// The header and idle timeouts of this loop's client connections.
    let clientTimeouts: ClientTimeoutSweep

    init(eventLoop: any EventLoop, decisionSink: any LogLineSink, observer: (any LoopObserver)? = nil) {
        self.eventLoop = eventLoop
        self.decisionSink = decisionSink
        self.observer = observer
        self.clientTimeouts = ClientTimeoutSweep(eventLoop: eventLoop)
    }

    deinit {
        self.decisionLineScratch.deallocate()
    }

    // MARK: Decision lines

    /// Writes `record`'s decision line into this loop's batch. The batch goes
    /// to the sink once per event-loop turn (a task queued with its first line
    /// runs after the turn's I/O), or at once when it grows past
    /// `decisionBatchBytes`: the sink's lock is taken once per turn, not per
    /// request. Lines keep their order; each reaches the sink before the loop
    /// waits for I/O again.
    func logDecision(_ record: borrowing DecisionRecord, format: LogLine.Format) {
        if self.decisionBatch.capacity == 0 {
            self.decisionBatch.reserveCapacity(Self.decisionBatchBytes + 1024)
        }
        record.appendLogLine(format: format, to: &self.decisionBatch, timestamps: &self.timestamps, scratch: self.decisionLineScratch)
        if self.decisionBatch.count >= Self.decisionBatchBytes {
            self.handOverDecisions()
        } else if !self.decisionHandOverQueued {
            self.decisionHandOverQueued = true
            self.eventLoop.assumeIsolated().execute { self.handOverDecisions() }
        }
    }

    private func handOverDecisions() {
        self.decisionHandOverQueued = false
        guard !self.decisionBatch.isEmpty else { return }
        self.decisionSink.write(batch: self.decisionBatch)
        self.decisionBatch.removeAll(keepingCapacity: true)
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
        let peers = snapshot.primaryPeers
        let index = self.primaryBalancer.pick(
            active: { peers[$0].active },
            isEligible: { peers[$0].isUp(now: now) && !tried.contains(peers[$0].identifier) }
        )
        return index.map { snapshot.primaryServers[$0] }
    }

    func pickReplica(
        _ snapshot: ProxySnapshot,
        replicas: ReplicaSet,
        now: UInt64,
        excluding tried: TriedServers
    ) -> (replica: Int, server: UpstreamServerState)? {
        self.refreshBalancers(snapshot)
        let peers = snapshot.flatReplicaPeers
        let index = self.replicaBalancer.pick(
            active: { peers[$0].active },
            isEligible: {
                replicas.contains(peers[$0].replica) && peers[$0].isUp(now: now) && !tried.contains(peers[$0].identifier)
            }
        )
        return index.map { snapshot.flatReplicaServers[$0] }
    }

    // MARK: Head buffers

    /// An empty buffer of at least `minimumCapacity` for a head: a recycled one
    /// when there is one. Its storage is reused in place when nothing else still
    /// holds it (NIO lets go of a buffer once written); otherwise `clear`
    /// allocates a fresh one, so sharing never shows, it only costs.
    func headBuffer(minimumCapacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard var buffer = self.spareHeadBuffers.popLast() else {
            return allocator.buffer(capacity: minimumCapacity)
        }
        buffer.clear(minimumCapacity: minimumCapacity)
        return buffer
    }

    /// Keeps a head's buffer for `headBuffer` (up to `spareHeadBufferCount` per
    /// loop, about one per request in flight, none larger than
    /// `spareHeadBufferCapacity`): a request and a response per exchange then
    /// allocate none. Consuming: a caller's last reference moves in.
    func recycle(_ buffer: consuming ByteBuffer) {
        guard self.spareHeadBuffers.count < Self.spareHeadBufferCount, buffer.capacity <= Self.spareHeadBufferCapacity else { return }
        self.spareHeadBuffers.append(buffer)
    }

    // MARK: Keep-alive pools

    func takeIdle(_ server: UpstreamServerState) -> UpstreamConnection? {
        let ordinal = server.ordinal
        guard ordinal < self.idle.count else { return nil }
        while let connection = self.idle[ordinal].popLast() {
            connection.isIdle = false
            if connection.isUsable {
                return connection
            }
        }
        return nil
    }

    /// Returns a connection to its server's pool (most recently used last).
    /// No timer per connection: `sweep` closes the ones idle too long, and
    /// those past `keepalive` once they have been idle for
    /// `excessIdleGrace`. `now`: the caller's reading of the clock, when it
    /// has one.
    ///
    /// Past `keepalive` the oldest is not closed at once (nginx's
    /// `keepalive` does that): with more requests in flight than `keepalive`
    /// covers, the number in use swings by more than the pool and every swing
    /// up opened new connections that the swing down closed again, a
    /// connect and a close for ~40 % of the requests at 512 concurrent
    /// clients and `keepalive: 64`, which halved the requests served
    /// (deploy/bench/LOG.md). Kept for a second, a burst's connections serve
    /// the next one, as HAProxy keeps idle server connections until its
    /// `pool-purge-delay`.
    func release(_ connection: consuming UpstreamConnection, keepalive: Int, idleTimeout: TimeAmount, now: NIODeadline = .now()) {
        guard connection.isUsable, keepalive > 0 else {
            connection.close()
            return
        }
        let ordinal = connection.server.ordinal
        if ordinal >= self.idle.count {
            self.idle.append(contentsOf: repeatElement([], count: ordinal + 1 - self.idle.count))
        }
        assert(connection.pool === self, "a connection goes back to its own loop's pool")
        connection.delegate = nil
        connection.isIdle = true
        connection.idleSince = now
        self.idleTimeout = idleTimeout
        self.keepalive = keepalive
        // Reads may have been held for the last exchange's client: an idle
        // connection must keep reading so a close (or stray bytes) is seen.
        // (Turning `autoRead` on only asks for readability: nothing is read
        // before the connection is in the list.)
        connection.resumeReads()
        // Its last use: moved into the list (consuming), not retained.
        self.idle[ordinal].append(consume connection)
        self.startSweepingIfNeeded()
    }

    /// Called by a pooled connection that closed while idle.
    func remove(_ connection: UpstreamConnection) {
        let ordinal = connection.server.ordinal
        guard ordinal < self.idle.count else { return }
        self.idle[ordinal].removeAll { $0 === connection }
    }

    private var idleTimeout = TimeAmount.seconds(60)
    /// `upstream.keepalive` as the last release saw it.
    private var keepalive = 64
    /// How long a connection past `keepalive` stays idle in its pool before
    /// the sweep closes it (the sweep runs at least once a second).
    static let excessIdleGrace = TimeAmount.seconds(1)
    private var sweeper: RepeatedTask?

    private func startSweepingIfNeeded() {
        guard self.sweeper == nil else { return }
        let every = TimeAmount.nanoseconds(max(10_000_000, min(1_000_000_000, self.idleTimeout.nanoseconds / 2)))
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.sweeper = self.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
            bound.value.sweep()
        }
    }

    /// Closes pooled connections idle for longer than `upstream.idle_timeout`,
    /// and, of a server's pool past `keepalive`, the oldest ones idle for
    /// `excessIdleGrace` or longer.
    private func sweep() {
        let now = NIODeadline.now()
        let cutoff = now - self.idleTimeout
        let excessCutoff = now - Self.excessIdleGrace
        var expired: [UpstreamConnection] = []
        for ordinal in self.idle.indices {
            // No copy of the list is held across the removal (it would make
            // the removal copy the list).
            let closing = self.closingCount(self.idle[ordinal], cutoff: cutoff, excessCutoff: excessCutoff)
            guard closing > 0 else { continue }
            expired.append(contentsOf: self.idle[ordinal].prefix(closing))
            self.idle[ordinal].removeFirst(closing)
        }
        for connection in expired {
            connection.isIdle = false
            connection.close()
        }
    }

    /// How many of a server's idle connections the sweep closes: lists are
    /// ordered by release time, oldest first, so the expired ones, and the
    /// ones past the grace, are prefixes.
    private func closingCount(_ list: [UpstreamConnection], cutoff: NIODeadline, excessCutoff: NIODeadline) -> Int {
        let expiredCount = list.prefix { $0.idleSince <= cutoff }.count
        let pastGraceCount = list.prefix { $0.idleSince <= excessCutoff }.count
        let excess = max(0, list.count - self.keepalive)
        return max(expiredCount, min(excess, pastGraceCount))
    }

    /// Closes every idle connection (shutdown).
    func closeIdle() {
        self.clientTimeouts.cancel()
        self.sweeper?.cancel()
        self.sweeper = nil
        let all = self.idle.flatMap { $0 }
        self.idle.removeAll()
        for connection in all {
            connection.isIdle = false
            connection.close()
        }
    }

    func connect(_ server: UpstreamServerState, timeout: TimeAmount) -> EventLoopFuture<UpstreamConnection> {
        guard let address = server.socketAddress else {
            return self.eventLoop.makeFailedFuture(ProxyFailure.Cause.unresolvable)
        }
        // The initializer runs on this loop (the bootstrap's group is the loop).
        let pool = NIOLoopBound(self, eventLoop: self.eventLoop)
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No NIO HTTP handlers: requests go out as the bytes the proxy handler
                    // encoded (the client's header lines, validated by ClientRequestParser,
                    // and ours, built from validated configuration), responses are parsed
                    // as bytes by UpstreamConnection.
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnection(server: server, pool: pool.value))
                }
            }
        return bootstrap.connect(to: address).flatMapThrowing { channel in
            try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
        }
    }
}

/// Wall-clock milliseconds from a monotonic reading plus an offset to the
/// real-time clock, re-read once a second (as nginx caches its time once per
/// event-loop turn): a request's log timestamp costs no clock call of its
/// own. After a step of the system clock, timestamps follow within a second.
struct WallClockEstimate {
    private var offsetNanos: UInt64 = 0
    private var refreshAt: UInt64 = 0

    /// `uptimeNanos`: `NIODeadline`'s monotonic nanoseconds.
    mutating func millis(uptimeNanos: UInt64) -> UInt64 {
        if uptimeNanos >= self.refreshAt {
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            let real = UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
            self.offsetNanos = real &- uptimeNanos
            self.refreshAt = uptimeNanos &+ 1_000_000_000
        }
        return (uptimeNanos &+ self.offsetNanos) / 1_000_000
    }
}
