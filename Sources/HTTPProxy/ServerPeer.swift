/// One app server as the balancer asks about it on every request (up? how
/// busy? tried already?), through an unretained reference.
///
/// Reading a class reference out of an array to call a method on it retains
/// and releases it: two atomic operations per server per question, ~5 ns each
/// on this machine (LOG.md, tenth session), and the read balancer asks two
/// questions of every replica server. A peer asks without them. It is only
/// made by `ProxySnapshot`, whose arrays of the same servers keep each one
/// alive as long as the snapshot; the request path holds its snapshot while
/// it asks.
struct ServerPeer: Sendable {
    /// The replica the server belongs to (0 for a primary server).
    let replica: Int
    /// The server's identity, as `TriedServers` keeps it.
    let identifier: ObjectIdentifier
    private let reference: Unmanaged<UpstreamServerState>

    init(_ server: UpstreamServerState, replica: Int = 0) {
        self.replica = replica
        self.identifier = ObjectIdentifier(server)
        self.reference = Unmanaged.passUnretained(server)
    }

    func isUp(now: UInt64) -> Bool {
        self.reference._withUnsafeGuaranteedRef { $0.isUp(now: now) }
    }

    var active: Int {
        self.reference._withUnsafeGuaranteedRef { $0.active }
    }
}
