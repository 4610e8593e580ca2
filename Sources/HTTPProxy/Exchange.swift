import NIOCore
import NIOHTTP1
import SwitchyardCore

/// One request/response in flight on a client connection. Loop-confined;
/// owned by `ProxyServerHandler`. The `@exclusivity(unchecked)` marks: see
/// `LoopContext`.
final class Exchange {
    /// Request bodies up to this size are kept so an idempotent request can be
    /// re-sent to another server after its connection failed.
    static let replayLimit = 64 * 1024

    let snapshot: ProxySnapshot
    /// The replica board's entries when the request came, in the snapshot's
    /// replica order (the decision line's `lag_s` is the chosen replica's).
    let replicaEntries: [ReplicaStatusBoard.Entry]
    let startNanos: UInt64
    let timestampMillis: UInt64
    let method: String
    let path: String
    let client: String
    /// Where the request goes; a read falls back to the primary when every
    /// server of its replicas failed (see `ProxyServerHandler.startAttempt`).
    var decision: RouteDecision
    let pin: PinStatus
    /// The method, when it is one the proxy treats apart (what `isIdempotent`
    /// and `isHEAD` read).
    let knownMethod: KnownMethod?
    let clientKeepAlive: Bool
    /// The client spoke HTTP/1.0: it cannot read a chunked body.
    let clientIsHTTP10: Bool
    /// The request head the app server sees, encoded once: a retry re-sends these bytes.
    let upstreamHead: ByteBuffer
    /// The request body goes upstream in chunks (it came chunked).
    let upstreamChunked: Bool

    // Attempts
    @exclusivity(unchecked) var tried = TriedServers()
    var attempts = 0
    var server: UpstreamServerState?
    var replicaIndex: Int?
    var connection: UpstreamConnection?
    var connecting = false
    /// The request head reached an app server on some attempt (pins are set from then on).
    var reachedServer = false

    // Request body
    var requestEnded = false
    var bodyBytes = 0
    /// Parts received and not yet written to the current connection.
    @exclusivity(unchecked) var pending: [ByteBuffer] = []
    /// Every part so far while the body is small; nil once it is too large to replay.
    @exclusivity(unchecked) var replay: [ByteBuffer]? = []
    /// Body bytes written to some upstream connection.
    var bodyBytesWritten = 0

    // Response
    /// When the wait for the response head ends (uptime nanoseconds); 0 while not waiting.
    var responseDeadline: UInt64 = 0
    var responseStarted = false
    var upstreamKeepAlive = true
    var status = 0
    var pinSet = false
    /// The response body goes to the client in chunks (no Content-Length from the app).
    var chunkedToClient = false
    /// The response head, built but not yet written: body bytes read with it
    /// join it, so a small response leaves in one write (see
    /// `ProxyServerHandler.writeToClient`). Here rather than on the handler:
    /// an idle connection does not pay for it.
    @exclusivity(unchecked) var unwrittenHead: ByteBuffer?
    /// Upstream events held while the pin position is being fetched (replayed in order).
    @exclusivity(unchecked) var held: [HeldUpstreamEvent]? = nil

    init(
        snapshot: ProxySnapshot,
        replicaEntries: [ReplicaStatusBoard.Entry],
        startNanos: UInt64,
        timestampMillis: UInt64,
        method: String,
        path: String,
        client: String,
        decision: RouteDecision,
        pin: PinStatus,
        knownMethod: KnownMethod?,
        clientKeepAlive: Bool,
        clientIsHTTP10: Bool = false,
        upstreamHead: ByteBuffer,
        upstreamChunked: Bool
    ) {
        self.snapshot = snapshot
        self.replicaEntries = replicaEntries
        self.startNanos = startNanos
        self.timestampMillis = timestampMillis
        self.method = method
        self.path = path
        self.client = client
        self.decision = decision
        self.pin = pin
        self.knownMethod = knownMethod
        self.clientKeepAlive = clientKeepAlive
        self.clientIsHTTP10 = clientIsHTTP10
        self.upstreamHead = upstreamHead
        self.upstreamChunked = upstreamChunked
    }

    func receivedBody(_ buffer: ByteBuffer) {
        self.bodyBytes += buffer.readableBytes
        self.pending.append(buffer)
        if self.replay != nil {
            if self.bodyBytes <= Exchange.replayLimit {
                self.replay?.append(buffer)
            } else {
                self.replay = nil
            }
        }
    }

    /// Whether a failure before the response head may be retried on another server (SPEC §4).
    func mayRetry(after cause: ProxyFailure.Cause) -> Bool {
        guard self.attempts <= self.snapshot.configuration.upstream.retries else { return false }
        switch cause {
        case .connectFailed, .unresolvable:
            return true
        case .closedBeforeResponse:
            return self.isIdempotent && (self.bodyBytesWritten == 0 || self.replay != nil)
        case .responseTimeout:
            return false
        }
    }

    /// Retried on another server after a failure (SPEC §4).
    var isIdempotent: Bool { self.knownMethod?.isIdempotent ?? false }

    /// A HEAD request: its response has no body.
    var isHEAD: Bool { self.knownMethod == .head }

    var replicaName: String? {
        guard let index = self.replicaIndex, index < self.snapshot.configuration.replicas.count else { return nil }
        return self.snapshot.configuration.replicas[index].name
    }
}

/// What the upstream connection did while a response was held for its pin position.
enum HeldUpstreamEvent {
    case event(UpstreamResponseEvent)
    case closed((any Error)?)
}
