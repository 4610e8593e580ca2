import NIOCore
import SwitchyardCore

extension SocketAddress {
    /// The address as text without its port: "192.0.2.7", "2001:db8::1".
    ///
    /// What NIO's `ipAddress` gives, without `inet_ntop` for IPv4 (see
    /// `IPAddress.ipv4Text`).
    var ipText: String? {
        guard case .v4(let v4) = self else { return self.ipAddress }
        return IPAddress.ipv4Text(UInt32(bigEndian: v4.address.sin_addr.s_addr))
    }
}
