import SwitchyardCore

extension FuzzTargets {
    /// The key every pin-token run signs with (the corpus holds tokens
    /// signed with it, so valid tokens are reachable).
    public static let pinKey: [UInt8] = Array("switchyard-fuzz-pin-key".utf8)
    /// The clock and TTL the corpus tokens are verified at.
    public static let pinNowMillis: UInt64 = 1_800_000_000_000
    public static let pinTTLMillis: UInt64 = 10_000

    /// The bytes as a cookie value through `PinSigner.verify`, as payload
    /// bytes through `PinToken(payload:)` and as text through `Base64URL`;
    /// then a token built from the bytes is signed, verified and tampered with.
    ///
    /// Invariants: a value that verifies is exactly what signing its token
    /// gives (one spelling per token); a payload that parses re-encodes to
    /// the same bytes; base64url decode/encode round-trips both ways; a
    /// signed token verifies as valid, expired or invalid exactly as its age
    /// says; a token with any one character changed never verifies.
    public static func pinToken(_ bytes: UnsafeRawBufferPointer) throws(FuzzFailure) {
        let target = FuzzTarget.pinToken
        let signer = PinSigner(key: Self.pinKey)
        let value = String(decoding: bytes, as: UTF8.self)

        // 1. The value as a client sends it.
        let status = signer.verify(value, nowMillis: Self.pinNowMillis, ttlMillis: Self.pinTTLMillis)
        switch status {
        case .none:
            try FuzzFailure.check(value.isEmpty, target, "a non-empty value verified as none")
        case let .valid(token):
            try FuzzFailure.check(signer.sign(token) == value, target, "\(value.debugDescription) verified but is not how its token is signed")
        case .expired:
            break
        case .invalid:
            try FuzzFailure.check(!value.isEmpty, target, "an empty value verified as invalid")
        }

        // 2. The raw bytes as a payload.
        if let token = PinToken(payload: bytes) {
            try FuzzFailure.check(token.payload == Array(bytes), target, "payload \(Array(bytes)) re-encodes to \(token.payload)")
        }

        // 3. Base64URL both ways.
        if let decoded = Base64URL.decode(value) {
            try FuzzFailure.check(Base64URL.encode(decoded) == value, target, "\(value.debugDescription) decodes but re-encodes differently")
        }
        let encoded = Base64URL.encode(Array(bytes))
        try FuzzFailure.check(Base64URL.decode(encoded) == Array(bytes), target, "encode/decode of \(Array(bytes)) is not the identity")

        // 4. A token made of the bytes: issue time, clock, TTL and an LSN.
        var reader = ByteReader(bytes)
        let issued = reader.uint64()
        let now = reader.uint64()
        let ttl = reader.uint64() % (7 * 24 * 3_600_000)
        let lsn: LSN? = reader.byte() & 1 == 1 ? LSN(reader.uint64()) : nil
        let token = PinToken(issuedAtMillis: issued, lsn: lsn)
        let signed = signer.sign(token)
        let expected: PinStatus
        if issued > now {
            expected = issued - now <= ttl ? .valid(token) : .invalid
        } else {
            expected = now - issued >= ttl ? .expired : .valid(token)
        }
        let verified = signer.verify(signed, nowMillis: now, ttlMillis: ttl)
        try FuzzFailure.check(verified == expected, target, "\(signed) issued \(issued), now \(now), ttl \(ttl): \(verified), expected \(expected)")
        try FuzzFailure.check(PinToken(payload: token.payload) == token, target, "payload round trip of \(token)")

        // 5. The same token with one character replaced never verifies.
        var characters = Array(signed.utf8)
        let position = Int(reader.byte()) % characters.count
        let replacement = reader.byte()
        if characters[position] != replacement {
            characters[position] = replacement
            let tampered = String(decoding: characters, as: UTF8.self)
            let result = signer.verify(tampered, nowMillis: issued, ttlMillis: ttl)
            if case .valid = result {
                throw FuzzFailure(target: target.rawValue, message: "tampered token \(tampered.debugDescription) of \(signed) verified")
            }
        }
    }
}
