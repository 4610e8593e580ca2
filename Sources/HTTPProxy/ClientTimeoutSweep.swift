import NIOCore

/// One timer per event loop for every client connection's header, idle and
/// response timeouts (`ClientConnectionTimeouts`), instead of one per connection: a
/// scheduled task (its promise, closures and queue entry) cost each idle
/// connection ~250 bytes, and each short-lived connection a schedule and a
/// cancel. nginx keeps its timers per worker in the same spirit.
///
/// The sweep runs every `period` (the smallest of its members' periods) while
/// any connection is registered, and lets each one compare the time spent in
/// its state with its limit. The period only shrinks: after a reload that
/// shortened `upstream.response_timeout`, the next connection opened brings it down.
final class ClientTimeoutSweep {
    private let eventLoop: any EventLoop
    /// (`@exclusivity(unchecked)`: see `LoopContext`.)
    @exclusivity(unchecked) private var members: [ClientConnectionTimeouts] = []
    private var task: Scheduled<Void>?
    private var taskFires: NIODeadline = .distantFuture
    private var period: TimeAmount = .hours(1)

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    var count: Int { self.members.count }

    /// Whether the next sweep is scheduled (only while connections are registered, or until that sweep runs).
    var isScheduled: Bool { self.task != nil }

    /// The loop's clock (virtual on an `EmbeddedEventLoop`).
    var now: NIODeadline { self.eventLoop.now }

    func add(_ member: ClientConnectionTimeouts) {
        guard member.sweepIndex == nil else { return }
        member.sweepIndex = self.members.count
        self.members.append(member)
        if member.period < self.period {
            self.period = member.period
        }
        let due = self.now + self.period
        if self.task == nil || due < self.taskFires {
            self.schedule(at: due)
        }
    }

    func remove(_ member: ClientConnectionTimeouts) {
        guard let index = member.sweepIndex, index < self.members.count, self.members[index] === member else { return }
        member.sweepIndex = nil
        let last = self.members.removeLast()
        if index < self.members.count {
            self.members[index] = last
            last.sweepIndex = index
        }
    }

    private func schedule(at deadline: NIODeadline) {
        self.task?.cancel()
        self.taskFires = deadline
        // A strong capture: the sweep lives as long as its loop's context.
        self.task = self.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.task = nil
            self.sweep()
        }
    }

    private func sweep() {
        let now = self.now
        // A check may close its connection, which removes it from `members`:
        // walk a copy.
        let members = self.members
        for member in members where member.sweepIndex != nil {
            member.check(now: now)
        }
        if !self.members.isEmpty {
            self.schedule(at: self.now + self.period)
        }
    }

    /// Calls `body` with each registered connection's channel (drain: quiesce, then close leftovers).
    func forEachChannel(_ body: (any Channel) -> Void) {
        for member in self.members {
            if let channel = member.channel {
                body(channel)
            }
        }
    }

    /// Stops the timer (the loop's server is shutting down).
    func cancel() {
        self.task?.cancel()
        self.task = nil
    }
}
