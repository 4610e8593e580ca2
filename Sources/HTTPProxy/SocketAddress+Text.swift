import NIOCore

extension SocketAddress {
    /// The address as text without its port: "192.0.2.7", "2001:db8::1".
    ///
    /// What NIO's `ipAddress` gives, without `inet_ntop` for IPv4: glibc
    /// formats each octet with `sprintf`, ~1,800 instructions per accepted
    /// connection on a connection-per-request load; these digits are ~100.
    var ipText: String? {
        guard case .v4(let v4) = self else { return self.ipAddress }
        return Self.ipv4Text(UInt32(bigEndian: v4.address.sin_addr.s_addr))
    }

    /// Dotted-decimal text of an IPv4 address in host byte order.
    static func ipv4Text(_ address: UInt32) -> String {
        String(unsafeUninitializedCapacity: 15) { text in
            var count = 0
            func put(_ byte: UInt8) {
                text[count] = byte
                count += 1
            }
            for shift in stride(from: 24, through: 0, by: -8) {
                if shift != 24 { put(UInt8(ascii: ".")) }
                let octet = UInt8(truncatingIfNeeded: address >> UInt32(shift))
                if octet >= 100 { put(UInt8(ascii: "0") + octet / 100) }
                if octet >= 10 { put(UInt8(ascii: "0") + octet / 10 % 10) }
                put(UInt8(ascii: "0") + octet % 10)
            }
            return count
        }
    }
}
