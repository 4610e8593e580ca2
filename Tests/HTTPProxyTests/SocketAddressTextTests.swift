import NIOCore
import SwitchyardCore
import Testing

@testable import HTTPProxy

@Suite("SocketAddress text: the client address the decision line shows")
struct SocketAddressTextTests {
    @Test(
        "IPv4 digits agree with inet_ntop's",
        arguments: [
            "0.0.0.0", "255.255.255.255", "127.0.0.1", "10.0.0.9", "100.64.0.10", "192.168.10.100", "1.20.100.0",
            "9.99.199.209",
        ])
    func ipv4AgreesWithNIO(_ text: String) throws {
        let address = try SocketAddress(ipAddress: text, port: 8080)
        #expect(address.ipText == text)
        #expect(address.ipText == address.ipAddress)
    }

    @Test("every octet value, in every position, reads as inet_ntop writes it")
    func everyOctet() throws {
        for octet in 0...255 {
            for shift in [24, 16, 8, 0] {
                let value = UInt32(octet) << UInt32(shift) | (shift == 0 ? 0x0102_0300 : 0x0000_0007)
                let expected = [24, 16, 8, 0].map { String(value >> UInt32($0) & 0xFF) }.joined(separator: ".")
                #expect(IPAddress.ipv4Text(value) == expected)
                #expect(try SocketAddress(ipAddress: expected, port: 1).ipAddress == expected)
            }
        }
    }

    @Test("IPv6 is NIO's text")
    func ipv6() throws {
        let address = try SocketAddress(ipAddress: "2001:db8::1", port: 443)
        #expect(address.ipText == "2001:db8::1")
    }
}
