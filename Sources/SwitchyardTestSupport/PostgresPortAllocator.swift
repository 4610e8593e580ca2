import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Picks TCP ports for test servers: random ports in a range outside Linux's ephemeral range
/// (32768–60999, where client sockets of other processes, even in TIME_WAIT, can block a server's
/// `bind()` for a minute), that nothing is bound to, and that no other cluster of this process holds.
///
/// A port is "free" when a fresh socket *without* SO_REUSEADDR can bind 127.0.0.1:port: that fails for a
/// listener on 127.0.0.1, on 0.0.0.0, on a dual-stack `[::]`, and for a TIME_WAIT socket; stricter than
/// the postmaster's own bind (which sets SO_REUSEADDR). There is still a window between the probe and
/// the postmaster's bind: ``PostgresCluster`` retries a failed bind with another port.
enum PostgresPortAllocator {
    /// Ports handed out to live clusters of this process, by owner (the cluster's directory).
    private static let reserved = Mutex<[Int: String]>([:])

    /// Reserves a free port of `range` for `owner`, avoiding `excluded`. Nil after `attempts` tries.
    static func reserve(
        in range: ClosedRange<Int>,
        for owner: String,
        excluding excluded: Set<Int> = [],
        attempts: Int = 200,
        isFree: (Int) -> Bool = PostgresPortAllocator.canBind(port:)
    ) -> Int? {
        for _ in 0..<attempts {
            let port = Int.random(in: range)
            guard !excluded.contains(port) else { continue }
            let claimed = self.reserved.withLock { reserved -> Bool in
                guard reserved[port] == nil else { return false }
                reserved[port] = owner
                return true
            }
            guard claimed else { continue }
            if isFree(port) {
                return port
            }
            self.release(port)
        }
        return nil
    }

    /// Reserves exactly `port` for `owner` when no other cluster of this process holds it (no probe).
    static func reserveExactly(_ port: Int, for owner: String) -> Bool {
        self.reserved.withLock { reserved in
            if let holder = reserved[port] {
                return holder == owner
            }
            reserved[port] = owner
            return true
        }
    }

    static func release(_ port: Int) {
        self.reserved.withLock { reserved in
            _ = reserved.removeValue(forKey: port)
        }
    }

    static func releaseAll(for owner: String) {
        self.reserved.withLock { reserved in
            reserved = reserved.filter { $0.value != owner }
        }
    }

    /// True when a socket without SO_REUSEADDR can bind 127.0.0.1:`port` (nothing listens there, nothing
    /// lingers in TIME_WAIT).
    static func canBind(port: Int) -> Bool {
        guard var address = POSIXSocket.makeAddress(host: "127.0.0.1", port: port) else { return false }
        #if os(Linux)
        let type = POSIXSocket.streamType | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = POSIXSocket.streamType
        #endif
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return false }
        defer { _ = POSIXSocket.closeSocket(fd) }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return bound == 0
    }
}
