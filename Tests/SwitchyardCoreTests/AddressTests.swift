import SwitchyardCore
import Testing

@Suite("IPAddress")
struct IPAddressTests {
    @Test(
        "IPv4 addresses parse into ::ffff:0:0/96 and print back",
        arguments: [
            ("0.0.0.0", UInt64(0x0000_FFFF_0000_0000)),
            ("127.0.0.1", 0x0000_FFFF_7F00_0001),
            ("10.1.2.3", 0x0000_FFFF_0A01_0203),
            ("255.255.255.255", 0x0000_FFFF_FFFF_FFFF),
        ]
    )
    func ipv4(text: String, low: UInt64) throws {
        let address = try #require(IPAddress(parsing: text))
        #expect(address.isIPv4)
        #expect(address.high == 0)
        #expect(address.low == low)
        #expect(address.description == text)
    }

    @Test(
        "IPv6 addresses parse and print in canonical form",
        arguments: [
            ("::1", "::1", UInt64(0), UInt64(1)),
            ("::", "::", 0, 0),
            ("2001:db8::1", "2001:db8::1", 0x2001_0db8_0000_0000, 1),
            ("2001:DB8:0:0:0:0:0:1", "2001:db8::1", 0x2001_0db8_0000_0000, 1),
            ("fe80::1:2", "fe80::1:2", 0xfe80_0000_0000_0000, 0x0000_0000_0001_0002),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .max, .max),
        ]
    )
    func ipv6(text: String, canonical: String, high: UInt64, low: UInt64) throws {
        let address = try #require(IPAddress(parsing: text))
        #expect(!address.isIPv4)
        #expect(address.high == high)
        #expect(address.low == low)
        #expect(address.description == canonical)
    }

    @Test("an IPv4-mapped IPv6 address is the IPv4 address", arguments: ["::ffff:1.2.3.4", "::FFFF:1.2.3.4", "0:0:0:0:0:ffff:102:304", "::ffff:0102:0304"])
    func mapped(text: String) throws {
        let mapped = try #require(IPAddress(parsing: text))
        let plain = try #require(IPAddress(parsing: "1.2.3.4"))
        #expect(mapped == plain)
        #expect(mapped.isIPv4)
        #expect(mapped.description == "1.2.3.4")
    }

    @Test("an IPv4-compatible (not mapped) IPv6 address stays IPv6")
    func compatible() throws {
        let address = try #require(IPAddress(parsing: "::1.2.3.4"))
        #expect(!address.isIPv4)
        #expect(address != IPAddress(parsing: "1.2.3.4"))
    }

    @Test(
        "bad input is nil",
        arguments: [
            "", " ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n",
            "1.2.3.4/8", "1.2.3.4:80", "[::1]", "::1%eth0", "fe80::1%1", ":::", "1::2::3", "::g", "1:2:3:4:5:6:7:8:9",
            "12345::", "localhost", "example.com", "::ffff:1.2.3.256",
            String(repeating: "1", count: 100), String(repeating: "0:", count: 40) + "1",
        ]
    )
    func bad(text: String) {
        #expect(IPAddress(parsing: text) == nil)
    }

    /// `inet_pton` reads a C string, so text after an embedded NUL is
    /// silently ignored: "1.2.3.4\0evil" parses as 1.2.3.4.
    @Test("an embedded NUL is bad input, not the end of the text", arguments: ["1.2.3.4\u{0}evil", "1.2.3.4\u{0}", "::1\u{0}x", "\u{0}1.2.3.4"])
    func embeddedNUL(text: String) {
        #expect(IPAddress(parsing: text) == nil)
    }

    @Test("parses a Substring")
    func substring() {
        let text = "x=10.0.0.1;"
        #expect(IPAddress(parsing: text.dropFirst(2).dropLast()) == IPAddress(parsing: "10.0.0.1"))
    }
}

@Suite("CIDR")
struct CIDRTests {
    @Test(
        "IPv4 blocks contain exactly their range",
        arguments: [
            ("10.0.0.0/8", "10.0.0.0", true),
            ("10.0.0.0/8", "10.255.255.255", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("10.0.0.0/8", "9.255.255.255", false),
            ("192.168.1.0/24", "192.168.1.77", true),
            ("192.168.1.0/24", "192.168.2.77", false),
            ("172.16.0.0/12", "172.31.255.255", true),
            ("172.16.0.0/12", "172.32.0.0", false),
            ("203.0.113.9/32", "203.0.113.9", true),
            ("203.0.113.9/32", "203.0.113.8", false),
            ("203.0.113.9", "203.0.113.9", true),
            ("203.0.113.9", "203.0.113.10", false),
            ("0.0.0.0/0", "0.0.0.0", true),
            ("0.0.0.0/0", "255.255.255.255", true),
            ("0.0.0.0/0", "123.45.67.89", true),
            ("128.0.0.0/1", "127.255.255.255", false),
            ("128.0.0.0/1", "128.0.0.0", true),
            ("10.0.0.0/8", "::ffff:10.1.2.3", true),
            ("10.0.0.0/8", "::ffff:11.1.2.3", false),
        ]
    )
    func ipv4Blocks(cidr: String, address: String, contained: Bool) throws {
        let block = try #require(CIDR(parsing: cidr))
        let ip = try #require(IPAddress(parsing: address))
        #expect(block.contains(ip) == contained)
    }

    @Test(
        "IPv6 blocks contain exactly their range, across the 64-bit boundary",
        arguments: [
            ("::1/128", "::1", true),
            ("::1/128", "::2", false),
            ("::1", "::1", true),
            ("2001:db8::/32", "2001:db8:ffff:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff", true),
            ("2001:db8::/64", "2001:db8:0:1::", false),
            ("2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", true),
            ("2001:db8::/65", "2001:db8::8000:0:0:0", false),
            ("2001:db8::/127", "2001:db8::1", true),
            ("2001:db8::/127", "2001:db8::2", false),
            ("2001:db8::/63", "2001:db8:0:1::", true),
            ("2001:db8::/63", "2001:db8:0:2::", false),
            ("fd00::/8", "fdff::1", true),
            ("fd00::/8", "fc00::1", false),
            ("::/0", "::", true),
            ("::/0", "2001:db8::1", true),
            ("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
        ]
    )
    func ipv6Blocks(cidr: String, address: String, contained: Bool) throws {
        let block = try #require(CIDR(parsing: cidr))
        let ip = try #require(IPAddress(parsing: address))
        #expect(block.contains(ip) == contained)
    }

    @Test("an IPv4 block never contains an IPv6 address, and an IPv6 block holding no mapped range no IPv4 one")
    func familiesDoNotMix() throws {
        let v4All = try #require(CIDR(parsing: "0.0.0.0/0"))
        let v6 = try #require(IPAddress(parsing: "2001:db8::1"))
        #expect(!v4All.contains(v6))
        let v6Block = try #require(CIDR(parsing: "2001:db8::/32"))
        let v4 = try #require(IPAddress(parsing: "32.1.13.184"))  // 0x20010db8 as IPv4
        #expect(!v6Block.contains(v4))
    }

    @Test("the prefix length is counted over 128 bits; host bits are masked off")
    func normalisation() throws {
        let v4 = try #require(CIDR(parsing: "10.1.2.3/8"))
        #expect(v4.prefixLength == 104)
        #expect(v4.network == IPAddress(parsing: "10.0.0.0"))
        #expect(v4 == CIDR(parsing: "10.0.0.0/8"))
        #expect(v4.description == "10.1.2.3/8")
        let v6 = try #require(CIDR(parsing: "2001:db8::1/32"))
        #expect(v6.prefixLength == 32)
        #expect(v6.network == IPAddress(parsing: "2001:db8::"))
        #expect(v6 == CIDR(parsing: "2001:db8::/32"))
        #expect(try #require(CIDR(parsing: "1.2.3.4")).prefixLength == 128)
        #expect(try #require(CIDR(parsing: "::1")).prefixLength == 128)
        #expect(try #require(CIDR(parsing: "0.0.0.0/0")).prefixLength == 96)
        #expect(try #require(CIDR(parsing: "::/0")).prefixLength == 0)
        #expect(Set([CIDR(parsing: "10.0.0.0/8"), CIDR(parsing: "10.9.9.9/8")]).count == 1)
    }

    @Test("every IPv4 prefix length 0...32 splits the space where it should")
    func everyIPv4Prefix() throws {
        let probe = try #require(IPAddress(parsing: "203.0.113.77"))
        for bits in 0...32 {
            let block = try #require(CIDR(parsing: "203.0.113.77/\(bits)"))
            #expect(block.contains(probe), "/\(bits)")
            if bits > 0 {
                // Flip the last bit inside the prefix: outside the block.
                let value: UInt32 = 0xCB00_714D ^ (1 << UInt32(32 - bits))
                let flipped = "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
                let outside = try #require(IPAddress(parsing: flipped))
                #expect(!block.contains(outside), "/\(bits) vs \(flipped)")
            }
            if bits < 32 {
                // Flip the first bit past the prefix: still inside.
                let value: UInt32 = 0xCB00_714D ^ (1 << UInt32(31 - bits))
                let inside = "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
                #expect(block.contains(try #require(IPAddress(parsing: inside))), "/\(bits) vs \(inside)")
            }
        }
    }

    @Test(
        "bad CIDRs are nil",
        arguments: [
            "", "/", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0 /8",
            "10.0.0.0/8 ", "10.0.0.0/0x8", "10.0.0.0/1000", "10.0.0/8", "::/129", "::1/200", "::/", "garbage/8", "10.0.0.0/٨",
        ]
    )
    func bad(text: String) {
        #expect(CIDR(parsing: text) == nil)
    }

    /// The mapped range written the IPv6 way is a valid CIDR and means the
    /// IPv4 block: `::ffff:10.0.0.0/104` is `10.0.0.0/8`.
    @Test("an IPv4-mapped block written as IPv6 (::ffff:a.b.c.d/96+N) is accepted and means the IPv4 block")
    func mappedBlockWrittenAsIPv6() throws {
        let block = try #require(CIDR(parsing: "::ffff:10.0.0.0/104"))
        #expect(block.contains(try #require(IPAddress(parsing: "10.1.2.3"))))
        #expect(!block.contains(try #require(IPAddress(parsing: "11.1.2.3"))))
        let all = try #require(CIDR(parsing: "::ffff:0:0/96"))
        #expect(all.contains(try #require(IPAddress(parsing: "203.0.113.9"))))
    }
}

@Suite("ServerAddress")
struct ServerAddressTests {
    @Test(
        "host:port and [v6]:port parse",
        arguments: [
            ("127.0.0.1:8001", "127.0.0.1", 8001),
            ("0.0.0.0:8080", "0.0.0.0", 8080),
            ("localhost:80", "localhost", 80),
            ("app.internal:65535", "app.internal", 65535),
            ("app-1.svc.cluster.local:0", "app-1.svc.cluster.local", 0),
            ("[::1]:9090", "::1", 9090),
            ("[2001:db8::1]:443", "2001:db8::1", 443),
            ("[::ffff:127.0.0.1]:5", "::ffff:127.0.0.1", 5),
            ("host:00080", "host", 80),
        ]
    )
    func good(text: String, host: String, port: Int) throws {
        let address = try #require(ServerAddress(parsing: text))
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address == ServerAddress(host: host, port: port))
    }

    @Test(
        "prints back as host:port or [v6]:port",
        arguments: [
            ("127.0.0.1:8001", "127.0.0.1:8001"),
            ("[::1]:9090", "[::1]:9090"),
            ("[2001:db8::1]:443", "[2001:db8::1]:443"),
            ("host:00080", "host:80"),
        ]
    )
    func description(text: String, printed: String) throws {
        let address = try #require(ServerAddress(parsing: text))
        #expect(address.description == printed)
        #expect(ServerAddress(parsing: address.description) == address)
    }

    @Test(
        "bad addresses are nil",
        arguments: [
            "", ":", "host", "host:", ":80", "host:65536", "host:99999", "host:123456", "host:-1", "host:+80", "host:8o",
            "host:80 ", "host: 80", "host :80", "ho st:80", "a/b:80", "::1:80", "2001:db8::1:443", "[::1]", "[::1]:", "[::1]80",
            "[::1]:x", "[]:80", "[127.0.0.1]:80", "[::1:80", "[::1]]:80", "[::1]:80:80", "host:٨٠", "host:８０",
        ]
    )
    func bad(text: String) {
        #expect(ServerAddress(parsing: text) == nil)
    }

    /// The bracketed form is for IPv6 literals; anything else in brackets is
    /// as wrong as a space or a slash in an unbracketed host, and should fail
    /// `switchyard check` rather than every connection attempt later.
    @Test("the bracketed host must be an IPv6 address", arguments: ["[::zz]:80", "[:]:80", "[a b:c]:80", "[::1/64]:80", "[ ::1]:80", "[host:name]:80"])
    func bracketedHostMustBeIPv6(text: String) {
        #expect(ServerAddress(parsing: text) == nil)
    }
}
