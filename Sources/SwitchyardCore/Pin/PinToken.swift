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

    /// `payload`, in a buffer on the stack for the length of `body`.
    public func withPayload<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 18
        return try withUnsafeMutableBytes(of: &storage) { buffer in
            buffer[0] = PinToken.currentVersion
            buffer[1] = self.lsn == nil ? 0 : 1
            PinToken.storeBigEndian(self.issuedAtMillis, into: buffer, at: 2)
            var count = 10
            if let lsn = self.lsn {
                PinToken.storeBigEndian(lsn.value, into: buffer, at: 10)
                count = 18
            }
            return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    private static func storeBigEndian(_ value: UInt64, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        for index in 0..<8 {
            buffer[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * index))
        }
    }

    public var payload: [UInt8] {
        self.withPayload { Array($0) }
    }

    /// Nil for an unknown version, unknown flags or a wrong length.
    public init?(payload: some Collection<UInt8>) {
        guard let token = Array(payload).withUnsafeBytes({ PinToken(payloadBytes: $0) }) else { return nil }
        self = token
    }

    /// The same over bytes where they lie (no array).
    public init?(payloadBytes bytes: UnsafeRawBufferPointer) {
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

    private static func readBigEndian(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in offset..<(offset + 8) {
            value = (value << 8) | UInt64(bytes[i])
        }
        return value
    }
}
