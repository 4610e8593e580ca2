#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain listening TCP socket on 127.0.0.1 at a random port of the fixture's range (20000–32000):
/// "someone else's server" occupying a port.
final class LoopbackListener {
    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    private let fd: Int32

    init() throws {
        for _ in 0..<100 {
            let port = Int.random(in: 20000...32000)
            #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard fd >= 0 else { throw SetupError(description: "socket() failed: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 && listen(fd, 16) == 0 {
                self.port = port
                self.fd = fd
                return
            }
            Self.closeDescriptor(fd)
        }
        throw SetupError(description: "no free port for a listener in 20000...32000")
    }

    func close() {
        Self.closeDescriptor(self.fd)
    }

    private static func closeDescriptor(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #elseif canImport(Darwin)
        _ = Darwin.close(fd)
        #endif
    }
}
