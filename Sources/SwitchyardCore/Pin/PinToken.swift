/// What a pin cookie says (SPEC §3): a version, the issue time and, in `lsn`
/// mode, a primary WAL position at or after the write's commit.
///
/// Wire payload (before base64url): byte 0 = version (1); byte 1 = flags
/// (bit 0: an LSN follows); bytes 2..<10 = issue time, milliseconds since the
/// Unix epoch, big-endian; then 8 bytes of LSN, big-endian, when flagged.
public struct PinToken: Sendable, Hashable {
    public static let currentVersion: UInt8 = 1

    public var issuedAtMillis: UInt64
    public var lsn: LSN?

    public init(issuedAtMillis: UInt64, lsn: LSN? = nil) {
        self.issuedAtMillis = issuedAtMillis
        self.lsn = lsn
    }

    public var payload: [UInt8] {
        var bytes: [UInt8] = [PinToken.currentVersion, self.lsn == nil ? 0 : 1]
        bytes.reserveCapacity(18)
        PinToken.appendBigEndian(self.issuedAtMillis, to: &bytes)
        if let lsn = self.lsn {
            PinToken.appendBigEndian(lsn.value, to: &bytes)
        }
        return bytes
    }

    /// Nil for an unknown version, unknown flags or a wrong length.
    public init?(payload: some Collection<UInt8>) {
        let bytes = Array(payload)
        guard bytes.count >= 10, bytes[0] == PinToken.currentVersion else { return nil }
        switch bytes[1] {
        case 0:
            guard bytes.count == 10 else { return nil }
            self.init(issuedAtMillis: PinToken.readBigEndian(bytes, at: 2), lsn: nil)
        case 1:
            guard bytes.count == 18 else { return nil }
            self.init(issuedAtMillis: PinToken.readBigEndian(bytes, at: 2), lsn: LSN(PinToken.readBigEndian(bytes, at: 10)))
        default:
            return nil
        }
    }

    private static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    private static func readBigEndian(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in offset..<(offset + 8) {
            value = (value << 8) | UInt64(bytes[i])
        }
        return value
    }
}
