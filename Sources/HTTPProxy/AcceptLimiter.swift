import Atomics
import NIOCore
import Synchronization

/// Server-channel handler for `clients.max_connections`: past the limit it
/// stops accepting, so new connections wait in the kernel's listen backlog
/// (nginx's `worker_connections` behaviour), and resumes as connections close.
final class AcceptLimiter: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    private let connections: ConnectionLimit
    private var pendingRead = false
    private var context: ChannelHandlerContext?

    init(_ connections: ConnectionLimit) {
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.connections.setLimiter(NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.connections.setLimiter(nil)
        self.context = nil
    }

    /// An accepted connection: counted here, on the listener's loop, before
    /// the next accept is asked for; `ConnectionLimit.closed()` is called by
    /// the connection's handler when it goes (a close-future callback per
    /// connection cost a closure and its registration, ~2,000 instructions
    /// on a connection-per-request load).
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.connections.opened()
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        guard self.connections.isFull else {
            context.read()
            return
        }
        self.pendingRead = true
        self.connections.paused.store(true, ordering: .sequentiallyConsistent)
        // A connection that closed between the check and the store saw
        // `paused` false and woke no one: look again now that it is set.
        self.resumeIfBelowLimit()
    }

    fileprivate func resumeIfBelowLimit() {
        guard self.pendingRead, !self.connections.isFull, let context = self.context else { return }
        self.pendingRead = false
        self.connections.paused.store(false, ordering: .sequentiallyConsistent)
        context.read()
    }
}

/// The open client connections, shared by the listener (`AcceptLimiter`)
/// and every connection's handler on whichever loop it runs.
final class ConnectionLimit: Sendable {
    let limit: Int
    private let open = ManagedAtomic<Int>(0)
    /// The listener stopped asking for accepts (the count reached the limit).
    fileprivate let paused = ManagedAtomic<Bool>(false)
    /// Where a close that makes room resumes accepting.
    private let limiter = Mutex<NIOLoopBound<AcceptLimiter>?>(nil)

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int {
        self.open.load(ordering: .sequentiallyConsistent)
    }

    fileprivate var isFull: Bool {
        self.count >= self.limit
    }

    fileprivate func setLimiter(_ limiter: NIOLoopBound<AcceptLimiter>?) {
        self.limiter.withLock { $0 = limiter }
    }

    fileprivate func opened() {
        self.open.wrappingIncrement(ordering: .sequentiallyConsistent)
    }

    /// A counted connection is gone (its handler was removed: the channel
    /// closed, or its set-up failed). Wakes the listener when it is waiting.
    func closed() {
        // Sequentially consistent, with `paused` in `AcceptLimiter.read`: of
        // a close and a pause at the same time, one sees the other.
        self.open.wrappingDecrement(ordering: .sequentiallyConsistent)
        // Only hop to the listener's loop when accepting is actually paused.
        guard self.paused.load(ordering: .sequentiallyConsistent), let limiter = self.limiter.withLock({ $0 }) else { return }
        limiter.eventLoop.execute { limiter.value.resumeIfBelowLimit() }
    }
}
