#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Many raw TCP connections to one loopback port held by one object, for hostile-client tests:
/// thousands of idle keep-alive connections, slowloris clients dribbling a request head.
/// Blocking calls: use them from a ``BlockingIO`` thread (or wrap with `BlockingIO.run`).
public final class SocketHerd: Sendable {
    public let port: Int
    private let state: Mutex<State>

    private struct State {
        var descriptors: [Int32]
        /// Per descriptor: false once the peer closed or reset it (or we closed it).
        var open: [Bool]
        /// The first bytes each connection received (up to 64).
        var received: [[UInt8]]
    }

    /// Connections asked for and the ones that could not be made (connect error or timeout).
    public let requested: Int
    public let connectFailures: Int

    private init(port: Int, descriptors: [Int32], requested: Int) {
        self.port = port
        self.requested = requested
        self.connectFailures = requested - descriptors.count
        self.state = Mutex(State(descriptors: descriptors, open: descriptors.map { _ in true }, received: descriptors.map { _ in [] }))
    }

    /// Opens `count` connections (from `threads` threads in parallel), each with `timeout` as its
    /// connect/send timeout. Connections that fail are counted in ``connectFailures``.
    public static func open(count: Int, port: Int, host: String = "127.0.0.1", timeout: Duration = .seconds(5), threads: Int = 4) -> SocketHerd {
        let collected = Mutex<[Int32]>([])
        let workers = max(1, min(threads, count))
        let done = Atomic<Int>(0)
        for worker in 0..<workers {
            let share = count / workers + (worker < count % workers ? 1 : 0)
            let thread = Thread {
                var mine: [Int32] = []
                mine.reserveCapacity(share)
                for _ in 0..<share {
                    let fd = POSIXSocket.connect(host: host, port: port, timeout: timeout)
                    if fd >= 0 { mine.append(fd) }
                }
                collected.withLock { $0.append(contentsOf: mine) }
                done.add(1, ordering: .releasing)
            }
            thread.stackSize = 512 * 1024
            thread.start()
        }
        while done.load(ordering: .acquiring) < workers {
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
        return SocketHerd(port: port, descriptors: collected.withLock { $0 }, requested: count)
    }

    public var count: Int { self.state.withLock { $0.descriptors.count } }

    /// Sends `bytes` on every connection still open; returns on how many the send succeeded.
    /// A failed send marks the connection closed.
    @discardableResult
    public func sendToAll(_ bytes: [UInt8]) -> Int {
        self.state.withLock { state in
            var succeeded = 0
            for index in state.descriptors.indices where state.open[index] {
                let fd = state.descriptors[index]
                let failure = bytes.withUnsafeBytes { POSIXSocket.sendAll(fd: fd, bytes: $0) }
                if failure == nil {
                    succeeded += 1
                } else {
                    state.open[index] = false
                }
            }
            return succeeded
        }
    }

    /// Checks every connection without blocking: reads what arrived (keeping the first 64 bytes)
    /// and marks those the peer closed or reset. Returns how many are still open.
    @discardableResult
    public func refresh() -> Int {
        self.state.withLock { state in
            var scratch = [UInt8](repeating: 0, count: 4096)
            var pollSet = state.descriptors.enumerated().filter { state.open[$0.offset] }.map {
                (index: $0.offset, descriptor: pollfd(fd: $0.element, events: Int16(POLLIN), revents: 0))
            }
            var descriptors = pollSet.map(\.descriptor)
            let ready = descriptors.withUnsafeMutableBufferPointer { buffer in
                poll(buffer.baseAddress, nfds_t(buffer.count), 0)
            }
            if ready > 0 {
                for position in descriptors.indices where descriptors[position].revents != 0 {
                    let index = pollSet[position].index
                    let fd = descriptors[position].fd
                    while true {
                        let rc = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                        if rc > 0 {
                            let room = max(0, 64 - state.received[index].count)
                            state.received[index].append(contentsOf: scratch[0..<min(room, rc)])
                            continue
                        }
                        if rc == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                            state.open[index] = false
                        }
                        break
                    }
                }
            }
            pollSet.removeAll()
            return state.open.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }

    /// Connections still open as of the last ``refresh()``.
    public var openCount: Int {
        self.state.withLock { $0.open.reduce(0) { $0 + ($1 ? 1 : 0) } }
    }

    /// How many connections received a response starting with `prefix` (e.g. `"HTTP/1.1 408"`).
    public func receivedCount(startingWith prefix: String) -> Int {
        let wanted = Array(prefix.utf8)
        return self.state.withLock { state in
            state.received.reduce(0) { $0 + ($1.starts(with: wanted) ? 1 : 0) }
        }
    }

    /// How many connections received anything at all.
    public var connectionsThatReceivedBytes: Int {
        self.state.withLock { $0.received.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) } }
    }

    /// Closes every connection (FIN). Idempotent.
    public func closeAll() {
        self.state.withLock { state in
            for fd in state.descriptors {
                _ = POSIXSocket.closeSocket(fd)
            }
            state.descriptors.removeAll()
            state.open.removeAll()
            state.received.removeAll()
        }
    }

    deinit {
        self.closeAll()
    }
}
