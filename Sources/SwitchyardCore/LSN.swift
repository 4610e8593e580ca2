/// A PostgreSQL WAL position (`pg_lsn`), written `X/Y` in hex where the value is `(X << 32) | Y`.
public struct LSN: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) {
        self.value = value
    }

    /// Parses `X/Y` (1-8 hex digits each side). Nil for anything else.
    public init?(parsing text: some StringProtocol) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let high = text[text.startIndex..<slash]
        let low = text[text.index(after: slash)...]
        let isHex: (UInt8) -> Bool = { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) || ($0 >= 0x61 && $0 <= 0x66) }
        guard (1...8).contains(high.utf8.count), (1...8).contains(low.utf8.count),
            high.utf8.allSatisfy(isHex), low.utf8.allSatisfy(isHex),
            let h = UInt64(high, radix: 16), let l = UInt64(low, radix: 16)
        else { return nil }
        self.value = (h << 32) | l
    }

    public var description: String {
        let high = String(self.value >> 32, radix: 16, uppercase: true)
        let low = String(self.value & 0xFFFF_FFFF, radix: 16, uppercase: true)
        return "\(high)/\(low)"
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool {
        lhs.value < rhs.value
    }

    /// `lhs - rhs` in bytes, clamped at 0.
    public static func bytesBehind(_ ahead: LSN, _ behind: LSN) -> UInt64 {
        ahead.value > behind.value ? ahead.value - behind.value : 0
    }
}
