#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address as 16 bytes (IPv4 mapped into `::ffff:0:0/96`), so that
/// IPv4 and IPv6 peers compare with one code path.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public var isIPv4: Bool

    public init(high: UInt64, low: UInt64, isIPv4: Bool) {
        self.high = high
        self.low = low
        self.isIPv4 = isIPv4
    }

    /// Parses a textual IPv4 or IPv6 address (no brackets, no port, no zone).
    public init?(parsing text: some StringProtocol) {
        let string = String(text)
        guard !string.isEmpty, string.utf8.count <= 45, !string.utf8.contains(0) else { return nil }
        if !string.contains(":") {
            var v4 = in_addr()
            guard inet_pton(AF_INET, string, &v4) == 1 else { return nil }
            let value = UInt32(bigEndian: v4.s_addr)
            self.init(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(value), isIPv4: true)
        } else {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, string, &v6) == 1 else { return nil }
            var high: UInt64 = 0
            var low: UInt64 = 0
            withUnsafeBytes(of: &v6) { raw in
                for i in 0..<8 { high = (high << 8) | UInt64(raw[i]) }
                for i in 8..<16 { low = (low << 8) | UInt64(raw[i]) }
            }
            if high == 0, low >> 32 == 0x0000_FFFF {
                self.init(high: 0, low: low, isIPv4: true)
            } else {
                self.init(high: high, low: low, isIPv4: false)
            }
        }
    }

    public var description: String {
        if self.isIPv4 {
            return Self.ipv4Text(UInt32(truncatingIfNeeded: self.low))
        }
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { raw in
            for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: self.high >> (56 - 8 * UInt64(i))) }
            for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: self.low >> (56 - 8 * UInt64(i))) }
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Dotted-decimal text of an IPv4 address in host byte order, written
    /// digit by digit: the proxy formats every accepted client's address with
    /// it (`inet_ntop` formats each octet with glibc's `sprintf`, ~1,800
    /// instructions a connection; this is ~100).
    public static func ipv4Text(_ address: UInt32) -> String {
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

/// A CIDR block such as `10.0.0.0/8`, `::1/128` or a bare address (a /32 or /128).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public var network: IPAddress
    /// Prefix length counted over the 128-bit form (an IPv4 /8 is stored as 104).
    public var prefixLength: Int
    public let text: String

    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddress(parsing: parts[0]) else { return nil }
        let writtenAsIPv4 = !parts[0].contains(":")
        let maxBits = writtenAsIPv4 ? 32 : 128
        var bits = maxBits
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                let parsed = Int(parts[1]), parsed <= maxBits
            else { return nil }
            bits = parsed
        }
        self.prefixLength = bits + (writtenAsIPv4 ? 96 : 0)
        self.network = CIDR.mask(address, prefixLength: self.prefixLength)
        self.text = text
    }

    public func contains(_ address: IPAddress) -> Bool {
        CIDR.mask(address, prefixLength: self.prefixLength) == self.network
    }

    private static func mask(_ address: IPAddress, prefixLength: Int) -> IPAddress {
        let highMask: UInt64 = prefixLength >= 64 ? ~0 : (prefixLength == 0 ? 0 : ~0 << UInt64(64 - prefixLength))
        let lowBits = prefixLength - 64
        let lowMask: UInt64 = lowBits <= 0 ? 0 : (lowBits >= 64 ? ~0 : ~0 << UInt64(64 - lowBits))
        return IPAddress(high: address.high & highMask, low: address.low & lowMask, isIPv4: address.isIPv4)
    }

    public var description: String { self.text }

    public static func == (lhs: CIDR, rhs: CIDR) -> Bool {
        lhs.network == rhs.network && lhs.prefixLength == rhs.prefixLength
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.network)
        hasher.combine(self.prefixLength)
    }
}
