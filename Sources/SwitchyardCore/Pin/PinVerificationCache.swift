/// Remembers pin cookies whose signature checked out, so that the requests a
/// pinned client sends during its pin (every read for `ttl`) are not each
/// charged an HMAC: with swift-crypto's BoringSSL backend an HMAC-SHA256
/// allocates twice (copy-on-write digest contexts) and takes ~0.5 µs.
///
/// A hit needs the exact bytes of a token verified before under the same key,
/// so it returns what verification would: the same bytes under the same key
/// give the same MAC. Expiry is evaluated on every call against the caller's
/// clock. Only tokens with a valid signature are remembered; a forged cookie
/// is verified (and rejected) every time, as before.
///
/// Direct-mapped: `slotCount` entries, picked by a hash of the cookie value;
/// a collision replaces the older entry. The comparison with a remembered
/// token touches every byte (no early exit), so response timing does not tell
/// a client how much of a remembered token its guess shares.
///
/// Not thread-safe: keep one per event loop (`LoopContext` does).
public struct PinVerificationCache {
    private struct Entry {
        var key: PinSigner.KeyIdentity
        var bytes: [UInt8]
        var token: PinToken
    }

    public static let defaultSlotCount = 64

    private var entries: [Entry?]
    private let mask: Int
    public private(set) var hits = 0
    public private(set) var misses = 0

    /// `slotCount` is rounded up to a power of two (at least 1).
    public init(slotCount: Int = PinVerificationCache.defaultSlotCount) {
        var count = 1
        while count < slotCount {
            count <<= 1
        }
        self.entries = Array(repeating: nil, count: count)
        self.mask = count - 1
    }

    /// `signer.verify(value, nowMillis:, ttlMillis:)`, answered from memory
    /// when this exact value was verified under the same key before.
    public mutating func verify(
        _ value: Substring, signer: PinSigner, nowMillis: UInt64, ttlMillis: UInt64
    ) -> PinStatus {
        var value = value
        return value.withUTF8 { self.verify(bytes: UnsafeRawBufferPointer($0), signer: signer, nowMillis: nowMillis, ttlMillis: ttlMillis) }
    }

    /// `verify` over the cookie value's bytes where they lie (the request
    /// head's buffer): a hit allocates nothing.
    public mutating func verify(
        bytes: UnsafeRawBufferPointer, signer: PinSigner, nowMillis: UInt64, ttlMillis: UInt64
    ) -> PinStatus {
        guard !bytes.isEmpty, bytes.count <= PinSigner.maximumTokenLength else {
            return signer.verify(bytes: bytes, nowMillis: nowMillis, ttlMillis: ttlMillis)
        }
        let slot = PinVerificationCache.hash(bytes) & self.mask
        if let entry = self.entries[slot], entry.key == signer.keyIdentity,
            PinVerificationCache.equal(entry.bytes, bytes)
        {
            self.hits &+= 1
            return PinSigner.status(of: entry.token, nowMillis: nowMillis, ttlMillis: ttlMillis)
        }
        self.misses &+= 1
        let status = signer.verify(bytes: bytes, nowMillis: nowMillis, ttlMillis: ttlMillis)
        if case .valid(let token) = status {
            self.entries[slot] = Entry(key: signer.keyIdentity, bytes: Array(bytes), token: token)
        }
        return status
    }

    /// FNV-1a over the value's bytes (the slot index; not a security boundary:
    /// a hit still compares every byte).
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 32))
    }

    /// Equal lengths, then every byte compared without an early exit.
    private static func equal(_ stored: [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard stored.count == bytes.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<bytes.count {
            difference |= stored[index] ^ bytes[index]
        }
        return difference == 0
    }
}
