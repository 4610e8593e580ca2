import Atomics
import NIOCore

/// Server-channel handler for `clients.max_connections`: past the limit it
/// stops accepting, so new connections wait in the kernel's listen backlog
/// (nginx's `worker_connections` behaviour), and resumes as connections close.
final class AcceptLimiter: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    private let limit: Int
    private let open: ManagedAtomic<Int>
    private var pendingRead = false
    private let paused = ManagedAtomic<Bool>(false)
    private var context: ChannelHandlerContext?

    init(limit: Int, open: ManagedAtomic<Int>) {
        self.limit = limit
        self.open = open
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = self.unwrapInboundIn(data)
        self.open.wrappingIncrement(ordering: .relaxed)
        let serverLoop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: serverLoop)
        let open = self.open
        let paused = self.paused
        child.closeFuture.whenComplete { _ in
            open.wrappingDecrement(ordering: .relaxed)
            // Only hop to the server's loop when accepting is actually paused.
            if paused.load(ordering: .relaxed) {
                serverLoop.execute { bound.value.resumeIfBelowLimit() }
            }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if self.open.load(ordering: .relaxed) >= self.limit {
            self.pendingRead = true
            self.paused.store(true, ordering: .relaxed)
        } else {
            context.read()
        }
    }

    private func resumeIfBelowLimit() {
        guard self.pendingRead, self.open.load(ordering: .relaxed) < self.limit, let context = self.context else { return }
        self.pendingRead = false
        self.paused.store(false, ordering: .relaxed)
        context.read()
    }
}
