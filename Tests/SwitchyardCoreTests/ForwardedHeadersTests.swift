import SwitchyardCore
import Testing

/// SPEC §4 "Headers": X-Forwarded-For / -Proto / -Host and X-Real-IP.
@Suite("ForwardedHeaders.compute")
struct ForwardedHeadersTests {
    static func cidrs(_ texts: String...) -> [CIDR] {
        texts.compactMap { CIDR(parsing: $0) }
    }

    static let trusted = ForwardedHeadersTests.cidrs("10.0.0.0/8", "192.168.1.0/24", "::1/128", "fd00::/8")

    private func compute(
        peer: String,
        xff: [String] = [],
        proto: String? = nil,
        forwardedHost: String? = nil,
        host: String? = "shop.example",
        trusted: [CIDR] = ForwardedHeadersTests.trusted
    ) -> ForwardedHeaders {
        ForwardedHeaders.compute(
            peer: peer,
            incomingForwardedFor: xff,
            incomingProto: proto,
            incomingHost: forwardedHost,
            host: host,
            trustedProxies: trusted
        )
    }

    // Found by the forwarded-for fuzz target (deploy/fuzz/regressions/forwarded-for/):
    // String.split works on grapheme clusters, and a comma followed by a combining
    // mark is one cluster, so "a,\u{301} b" stayed one element of the chain.
    @Test("X-Forwarded-For is split at every comma and trimmed as bytes (regression: fuzz forwarded-for)")
    func splitAsBytes() {
        let result = self.compute(peer: "10.0.0.1", xff: ["203.0.113.7,\u{301} 10.0.0.9", " \u{301}198.51.100.1"])
        #expect(result.forwardedFor == "203.0.113.7, \u{301} 10.0.0.9, \u{301}198.51.100.1, 10.0.0.1")
        // Neither oddity is an address: the walk stops at the peer.
        #expect(result.realIP == "10.0.0.1")
        let plain = self.compute(peer: "10.0.0.1", xff: ["203.0.113.7,\t10.0.0.9"])
        #expect(plain.forwardedFor == "203.0.113.7, 10.0.0.9, 10.0.0.1")
        #expect(plain.realIP == "203.0.113.7")
    }

    @Test("the fixture's CIDRs all parse")
    func fixture() {
        #expect(Self.trusted.count == 4)
    }

    // MARK: - untrusted peer

    @Test("an untrusted peer: every incoming value is dropped and replaced", arguments: ["203.0.113.9", "2001:db8::9", "::ffff:203.0.113.9"])
    func untrustedPeer(peer: String) {
        let result = self.compute(
            peer: peer,
            xff: ["1.1.1.1, 10.0.0.7", "8.8.8.8"],
            proto: "https",
            forwardedHost: "evil.example"
        )
        #expect(result.forwardedFor == peer)
        #expect(result.forwardedProto == "http")
        #expect(result.forwardedHost == "shop.example")
        #expect(result.realIP == peer)
    }

    @Test("no trusted proxies configured: even a loopback peer is untrusted")
    func nothingTrusted() {
        let result = self.compute(peer: "127.0.0.1", xff: ["1.2.3.4"], proto: "https", forwardedHost: "x", trusted: [])
        #expect(result.forwardedFor == "127.0.0.1")
        #expect(result.forwardedProto == "http")
        #expect(result.forwardedHost == "shop.example")
        #expect(result.realIP == "127.0.0.1")
    }

    @Test("an untrusted peer without a Host header gives no X-Forwarded-Host")
    func untrustedNoHost() {
        let result = self.compute(peer: "203.0.113.9", forwardedHost: "evil.example", host: nil)
        #expect(result.forwardedHost == nil)
    }

    @Test("a peer that is not an IP address (e.g. a unix socket) is untrusted")
    func unparseablePeer() {
        let result = self.compute(peer: "unix:/run/sock", xff: ["1.2.3.4"], proto: "https", trusted: Self.cidrs("0.0.0.0/0", "::/0"))
        #expect(result.forwardedFor == "unix:/run/sock")
        #expect(result.forwardedProto == "http")
        #expect(result.realIP == "unix:/run/sock")
    }

    // MARK: - trusted peer

    @Test("a trusted peer: the chain is kept and the peer appended; proto and host kept")
    func trustedPeerKeepsChain() {
        let result = self.compute(peer: "10.0.0.2", xff: ["203.0.113.9"], proto: "https", forwardedHost: "www.example")
        #expect(result.forwardedFor == "203.0.113.9, 10.0.0.2")
        #expect(result.forwardedProto == "https")
        #expect(result.forwardedHost == "www.example")
        #expect(result.realIP == "203.0.113.9")
    }

    @Test("several incoming X-Forwarded-For fields are joined in order; spaces, tabs and empty elements are cleaned")
    func chainNormalised() {
        let result = self.compute(peer: "10.0.0.2", xff: [" 198.51.100.1 ,\t203.0.113.9", "", " , ", "10.0.0.9,10.0.0.8"])
        #expect(result.forwardedFor == "198.51.100.1, 203.0.113.9, 10.0.0.9, 10.0.0.8, 10.0.0.2")
        #expect(result.realIP == "203.0.113.9")
    }

    @Test("a trusted peer with no incoming chain: the chain is the peer, and the peer is the client")
    func trustedPeerNoChain() {
        let result = self.compute(peer: "10.0.0.2")
        #expect(result.forwardedFor == "10.0.0.2")
        #expect(result.realIP == "10.0.0.2")
        #expect(result.forwardedProto == "http")
        #expect(result.forwardedHost == "shop.example")
    }

    @Test("a trusted peer's empty X-Forwarded-Proto / -Host fall back to http / Host")
    func trustedEmptyProtoHost() {
        let result = self.compute(peer: "10.0.0.2", xff: ["1.2.3.4"], proto: "", forwardedHost: "")
        #expect(result.forwardedProto == "http")
        #expect(result.forwardedHost == "shop.example")
    }

    @Test(
        "X-Real-IP is the first address from the right that is not trusted",
        arguments: [
            // (incoming X-Forwarded-For, expected X-Real-IP); the peer is 10.0.0.2 (trusted)
            ("203.0.113.9", "203.0.113.9"),
            ("203.0.113.9, 10.0.0.5", "203.0.113.9"),
            ("203.0.113.9, 10.0.0.5, 192.168.1.20", "203.0.113.9"),
            // The client wrote the left part itself: it cannot choose the answer.
            ("1.1.1.1, 203.0.113.9", "203.0.113.9"),
            ("10.9.9.9, 198.51.100.1", "198.51.100.1"),
            ("10.9.9.9, 192.168.1.1, 198.51.100.1, 10.0.0.5", "198.51.100.1"),
            // 192.168.2.x is outside 192.168.1.0/24.
            ("203.0.113.9, 192.168.2.7, 10.0.0.5", "192.168.2.7"),
        ]
    )
    func realIPWalk(xff: String, expected: String) {
        #expect(self.compute(peer: "10.0.0.2", xff: [xff]).realIP == expected)
    }

    @Test("a chain of trusted addresses only gives the leftmost")
    func allTrustedChain() {
        let result = self.compute(peer: "10.0.0.2", xff: ["10.1.1.1, 192.168.1.5, 10.0.0.3"])
        #expect(result.realIP == "10.1.1.1")
        #expect(result.forwardedFor == "10.1.1.1, 192.168.1.5, 10.0.0.3, 10.0.0.2")
    }

    @Test("an element that is not an address stops the walk: nothing left of it is believed")
    func garbageStopsWalk() {
        // Garbage right of every untrusted address: the walk stops at the last trusted one it read.
        #expect(self.compute(peer: "10.0.0.2", xff: ["203.0.113.9, garbage, 10.0.0.3"]).realIP == "10.0.0.3")
        // Garbage rightmost: the peer itself.
        #expect(self.compute(peer: "10.0.0.2", xff: ["203.0.113.9, unknown"]).realIP == "10.0.0.2")
        #expect(self.compute(peer: "10.0.0.2", xff: ["203.0.113.9, 999.1.1.1"]).realIP == "10.0.0.2")
        #expect(self.compute(peer: "10.0.0.2", xff: ["203.0.113.9, [::1]"]).realIP == "10.0.0.2")
        // Garbage left of the first untrusted address does not matter.
        #expect(self.compute(peer: "10.0.0.2", xff: ["garbage, 203.0.113.9, 10.0.0.3"]).realIP == "203.0.113.9")
        // The chain itself is still passed on as received.
        #expect(self.compute(peer: "10.0.0.2", xff: ["203.0.113.9, garbage"]).forwardedFor == "203.0.113.9, garbage, 10.0.0.2")
    }

    @Test("IPv6 peers and chains")
    func ipv6() {
        let result = self.compute(peer: "::1", xff: ["2001:db8::5, fd00::7"], proto: "https")
        #expect(result.forwardedFor == "2001:db8::5, fd00::7, ::1")
        #expect(result.realIP == "2001:db8::5")
        #expect(result.forwardedProto == "https")
        // fd00::/8 is trusted, 2001:db8::/32 is not.
        let allTrusted = self.compute(peer: "fd00::1", xff: ["fd12::3"])
        #expect(allTrusted.realIP == "fd12::3")
        let untrustedV6 = self.compute(peer: "2001:db8::1", xff: ["fd00::1"])
        #expect(untrustedV6.forwardedFor == "2001:db8::1")
        #expect(untrustedV6.realIP == "2001:db8::1")
    }

    @Test("mixed IPv4 and IPv6 chains")
    func mixedFamilies() {
        #expect(self.compute(peer: "::1", xff: ["203.0.113.9, 10.0.0.3"]).realIP == "203.0.113.9")
        #expect(self.compute(peer: "10.0.0.2", xff: ["2001:db8::5, ::1"]).realIP == "2001:db8::5")
    }

    @Test("an IPv4-mapped IPv6 peer (dual-stack socket) is matched against IPv4 CIDRs")
    func mappedPeer() {
        let result = self.compute(peer: "::ffff:10.0.0.2", xff: ["203.0.113.9"])
        #expect(result.forwardedFor == "203.0.113.9, ::ffff:10.0.0.2")
        #expect(result.realIP == "203.0.113.9")
        let untrusted = self.compute(peer: "::ffff:203.0.113.1", xff: ["1.2.3.4"])
        #expect(untrusted.forwardedFor == "::ffff:203.0.113.1")
    }

    @Test("isTrusted checks every CIDR")
    func isTrusted() throws {
        let inside = try #require(IPAddress(parsing: "192.168.1.200"))
        let outside = try #require(IPAddress(parsing: "192.168.2.1"))
        #expect(ForwardedHeaders.isTrusted(inside, Self.trusted))
        #expect(!ForwardedHeaders.isTrusted(outside, Self.trusted))
        #expect(!ForwardedHeaders.isTrusted(inside, []))
    }
}
