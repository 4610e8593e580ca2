#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPProxy
import SwitchyardTestSupport
import Testing

@Suite("Proxy: client socket options")
struct SocketOptionTests {
    @Test("an accepted client connection has TCP_NODELAY, inherited from the listener (no setsockopt per accept)")
    func acceptedConnectionsHaveNoDelay() async throws {
        let harness = try await ProxyHarness.start()
        let raw = try await harness.raw()
        try await raw.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try await raw.readResponse().status == 200)
        // The proxy runs in this process: its end of the connection is one of our descriptors.
        let accepted = Self.connectedSockets(localPort: harness.port)
        #expect(!accepted.isEmpty, "no accepted socket on port \(harness.port) among this process's descriptors")
        for descriptor in accepted {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            #expect(getsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0)
            #expect(value == 1, "descriptor \(descriptor) has TCP_NODELAY \(value)")
        }
        await harness.stop()
    }

    /// Descriptors of this process that are connected TCP sockets bound to `localPort` (not the listener).
    private static func connectedSockets(localPort: Int) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap(Int32.init).filter { descriptor in
            var local = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            guard named == 0, local.sin_family == sa_family_t(AF_INET), Int(UInt16(bigEndian: local.sin_port)) == localPort else {
                return false
            }
            var peer = sockaddr_in()
            var peerLength = socklen_t(MemoryLayout<sockaddr_in>.size)
            let connected = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &peerLength) }
            }
            return connected == 0
        }
    }
}
