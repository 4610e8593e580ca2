#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, blocking POSIX TCP helpers used by ``RawHTTPClient`` and ``FakeAppServer/unusedPort()``.
/// Everything here is IPv4 loopback-oriented test plumbing; it never touches the network.
enum POSIXSocket {
    enum RecvResult {
        case data(Int)
        case endOfFile
        case reset
        case timedOut
    }

    static var streamType: Int32 {
        #if canImport(Glibc)
        return Int32(SOCK_STREAM.rawValue)
        #else
        return SOCK_STREAM
        #endif
    }

    static var sendFlags: Int32 {
        #if canImport(Darwin)
        return 0
        #else
        return Int32(MSG_NOSIGNAL)
        #endif
    }

    static func makeAddress(host: String, port: Int) -> sockaddr_in? {
        guard (0...65535).contains(port) else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let converted = host.withCString { inet_pton(AF_INET, $0, &address.sin_addr) }
        guard converted == 1 else { return nil }
        return address
    }

    /// Opens a TCP socket connected to `host:port` with send and receive timeouts. Returns the fd or `-errno`.
    static func connect(host: String, port: Int, timeout: Duration) -> Int32 {
        guard var address = self.makeAddress(host: host, port: port) else { return -EINVAL }
        let fd = socket(AF_INET, self.streamType, 0)
        guard fd >= 0 else { return -errno }
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var noDelay: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        self.setTimeouts(fd: fd, timeout: timeout)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                let rc = systemConnect(fd, socketAddress, socklen_t(MemoryLayout<sockaddr_in>.size))
                return rc == 0 ? Int32(0) : -errno
            }
        }
        if result != 0 {
            _ = closeSocket(fd)
            return result
        }
        return fd
    }

    static func setTimeouts(fd: Int32, timeout: Duration) {
        var value = self.timeval(from: timeout)
        let size = socklen_t(MemoryLayout<timeval>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, size)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, size)
    }

    static func timeval(from duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        var micros = attoseconds / 1_000_000_000_000
        var secs = seconds
        if secs < 0 { secs = 0; micros = 0 }
        // A zero timeval means "block forever" to SO_RCVTIMEO; use 1 µs instead.
        if secs == 0 && micros <= 0 { micros = 1 }
        #if canImport(Darwin)
        return Darwin.timeval(tv_sec: Int(secs), tv_usec: Int32(micros))
        #else
        return Glibc.timeval(tv_sec: Int(secs), tv_usec: Int(micros))
        #endif
    }

    /// Sends all bytes. Returns nil on success, otherwise (errno, bytesSent).
    static func sendAll(fd: Int32, bytes: UnsafeRawBufferPointer) -> (errno: Int32, sent: Int)? {
        guard let base = bytes.baseAddress else { return nil }
        var sent = 0
        while sent < bytes.count {
            let rc = send(fd, base + sent, bytes.count - sent, self.sendFlags)
            if rc > 0 {
                sent += rc
            } else if rc < 0 && errno == EINTR {
                continue
            } else {
                return (rc < 0 ? errno : EPIPE, sent)
            }
        }
        return nil
    }

    static func receive(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> RecvResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .data(0) }
        while true {
            let rc = recv(fd, base, buffer.count, 0)
            if rc > 0 { return .data(rc) }
            if rc == 0 { return .endOfFile }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                return .timedOut
            default:
                // ECONNRESET, EPIPE, ETIMEDOUT...: the connection is gone abortively.
                return .reset
            }
        }
    }

    enum PollResult {
        case readable
        case hangup
        case timedOut
    }

    static func pollReadable(fd: Int32, timeout: Duration) -> PollResult {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let (seconds, attoseconds) = timeout.components
        let millis = max(0, Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        while true {
            let rc = poll(&descriptor, 1, millis)
            if rc < 0 && errno == EINTR { continue }
            if rc <= 0 { return .timedOut }
            if descriptor.revents & Int16(POLLIN) != 0 { return .readable }
            return .hangup
        }
    }

    static func closeSocket(_ fd: Int32) -> Int32 {
        #if canImport(Darwin)
        return Darwin.close(fd)
        #elseif canImport(Musl)
        return Musl.close(fd)
        #else
        return Glibc.close(fd)
        #endif
    }

    static func shutdownWrite(_ fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes with SO_LINGER 0 so that the peer sees a RST.
    static func resetAndClose(_ fd: Int32) {
        var value = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
        _ = self.closeSocket(fd)
    }

    /// Binds 127.0.0.1:0, reads the port the kernel picked and closes the socket again.
    /// A free port below Linux's ephemeral range (32768+), so that a test that
    /// stops a server and restarts it on the same port does not lose the port to
    /// some other process's outgoing connection in between. Ports 10000-19999:
    /// the PostgreSQL fixture uses 20000-32000.
    static func pickUnusedPort(host: String) -> Int? {
        for _ in 0..<64 {
            let candidate = Int.random(in: 10_000...19_999)
            if self.canBind(host: host, port: candidate) == candidate {
                return candidate
            }
        }
        return self.canBind(host: host, port: 0)
    }

    /// Binds (without listening) to probe a port; returns the port bound, or nil.
    private static func canBind(host: String, port: Int) -> Int? {
        guard var address = self.makeAddress(host: host, port: port) else { return nil }
        let fd = socket(AF_INET, self.streamType, 0)
        guard fd >= 0 else { return nil }
        defer { _ = self.closeSocket(fd) }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var boundAddress = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &boundAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getsockname(fd, $0, &length)
            }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: boundAddress.sin_port))
    }

    static func errorString(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "errno \(code)" }
        return "\(String(cString: message)) (errno \(code))"
    }
}

@inline(__always)
private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    #if canImport(Darwin)
    return Darwin.connect(fd, address, length)
    #elseif canImport(Musl)
    return Musl.connect(fd, address, length)
    #else
    return Glibc.connect(fd, address, length)
    #endif
}

enum POSIXErrorCodes {
    static let connectionReset: Int32 = ECONNRESET
    static let brokenPipe: Int32 = EPIPE
}
