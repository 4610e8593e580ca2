import Crypto

/// What a request's pin cookie turned out to be (SPEC §3, the `pin` log field).
public enum PinStatus: Sendable, Hashable {
    case none
    case valid(PinToken)
    case expired
    case invalid

    public var logValue: String {
        switch self {
        case .none: "none"
        case .valid: "valid"
        case .expired: "expired"
        case .invalid: "invalid"
        }
    }
}

/// Signs and verifies pin tokens: `base64url(payload).base64url(HMAC-SHA256(key, payload))`.
public struct PinSigner: Sendable {
    /// HMAC state with the key already absorbed: each sign or verify copies it
    /// instead of re-keying (the key schedule is most of an HMAC of 18 bytes).
    private let keyed: HMAC<SHA256>

    /// A SHA-256 of the key: tells two signers' keys apart without keeping the
    /// key itself anywhere else (`PinVerificationCache` tags its entries with it).
    public struct KeyIdentity: Sendable, Hashable {
        let words: (UInt64, UInt64, UInt64, UInt64)

        init(_ digest: SHA256.Digest) {
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            digest.withUnsafeBytes { bytes in
                func word(_ offset: Int) -> UInt64 {
                    var value: UInt64 = 0
                    for index in offset..<(offset + 8) {
                        value = (value << 8) | UInt64(bytes[index])
                    }
                    return value
                }
                words = (word(0), word(8), word(16), word(24))
            }
            self.words = words
        }

        public static func == (lhs: KeyIdentity, rhs: KeyIdentity) -> Bool {
            lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
                && lhs.words.3 == rhs.words.3
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(self.words.0)
            hasher.combine(self.words.1)
            hasher.combine(self.words.2)
            hasher.combine(self.words.3)
        }
    }

    public let keyIdentity: KeyIdentity

    /// Longest valid token: 18-byte payload (24 chars) + '.' + 32-byte MAC (43
    /// chars) is 68; anything over this is rejected without decoding.
    public static let maximumTokenLength = 80

    public init(key: some Collection<UInt8>) {
        let key = Array(key)
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: key))
        self.keyIdentity = KeyIdentity(SHA256.hash(data: key))
    }

    /// Constant-time comparison of the token signed here with the bytes a
    /// client sent (the length is not secret: a token's length follows from
    /// its payload).
    private static func equal(_ computed: UnsafeRawBufferPointer, _ sent: UnsafeRawBufferPointer) -> Bool {
        guard computed.count == sent.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<sent.count {
            difference |= computed[index] ^ sent[index]
        }
        return difference == 0
    }

    /// A random 256-bit key (used when no secret is configured; logged as a warning by the caller).
    public static func randomKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    public func sign(_ token: PinToken) -> String {
        self.withSignedToken(token) { String(decoding: $0, as: UTF8.self) }
    }

    /// The signed token's characters (what `sign` returns), in a buffer on
    /// the stack for the length of `body`: the request path writes them
    /// straight into the response head, with no array or string per token.
    public func withSignedToken<Result>(_ token: PinToken, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        // 24 + 1 + 43 characters at most (`maximumTokenLength` is 80).
        var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return try withUnsafeMutableBytes(of: &storage) { output in
            let count = token.withPayload { payload -> Int in
                var mac = self.keyed
                mac.update(data: payload)
                let code = mac.finalize()
                var written = Base64URL.encode(payload, into: output)
                output[written] = UInt8(ascii: ".")
                written += 1
                written += code.withUnsafeBytes { Base64URL.encode($0, into: UnsafeMutableRawBufferPointer(rebasing: output[written...])) }
                return written
            }
            return try body(UnsafeRawBufferPointer(rebasing: output[0..<count]))
        }
    }

    /// Verifies a cookie value. An empty value is `.none`; a bad signature or
    /// shape is `.invalid`; a token issued more than `ttlMillis` before
    /// `nowMillis` is `.expired`. A token issued in the future (clock skew between
    /// instances) is accepted up to `ttlMillis` ahead — the TTL bound is the only
    /// place the decision depends on clocks agreeing.
    public func verify(_ value: some StringProtocol, nowMillis: UInt64, ttlMillis: UInt64) -> PinStatus {
        var text = String(value)
        return text.withUTF8 { self.verify(bytes: UnsafeRawBufferPointer($0), nowMillis: nowMillis, ttlMillis: ttlMillis) }
    }

    /// The same over the value's bytes where they lie (the request head's
    /// buffer). The payload is decoded on the stack and signed again; the
    /// value is valid when it is exactly that signed token, compared in
    /// constant time. Base64url decoding is strict (one spelling per byte
    /// string) and a payload parses back only from its one serialization, so
    /// this accepts what decoding and checking the MAC would, with no array,
    /// string or second decode.
    public func verify(bytes value: UnsafeRawBufferPointer, nowMillis: UInt64, ttlMillis: UInt64) -> PinStatus {
        if value.isEmpty {
            return .none
        }
        guard value.count <= PinSigner.maximumTokenLength, let dot = value.firstIndex(of: UInt8(ascii: ".")) else { return .invalid }
        var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        let token = withUnsafeMutableBytes(of: &storage) { payload -> PinToken? in
            guard let count = Base64URL.decode(UnsafeRawBufferPointer(rebasing: value[..<dot]), into: payload) else { return nil }
            return PinToken(payloadBytes: UnsafeRawBufferPointer(rebasing: payload[..<count]))
        }
        guard let token, self.withSignedToken(token, { PinSigner.equal($0, value) }) else { return .invalid }
        return PinSigner.status(of: token, nowMillis: nowMillis, ttlMillis: ttlMillis)
    }

    /// Whether a token with a valid signature is still valid at `nowMillis`.
    public static func status(of token: PinToken, nowMillis: UInt64, ttlMillis: UInt64) -> PinStatus {
        if token.issuedAtMillis > nowMillis {
            return token.issuedAtMillis - nowMillis <= ttlMillis ? .valid(token) : .invalid
        }
        return nowMillis - token.issuedAtMillis >= ttlMillis ? .expired : .valid(token)
    }
}
