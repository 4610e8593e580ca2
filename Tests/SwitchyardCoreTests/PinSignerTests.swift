import SwitchyardCore
import Testing

@Suite("PinSigner: sign, verify, tampering, expiry")
struct PinSignerTests {
    static let key: [UInt8] = Array("switchyard-test-secret-0123456789".utf8)
    static let issuedAt: UInt64 = 1_764_000_000_000
    static let ttl: UInt64 = 10_000

    let signer = PinSigner(key: PinSignerTests.key)

    static let tokens: [PinToken] = [
        PinToken(issuedAtMillis: PinSignerTests.issuedAt),
        PinToken(issuedAtMillis: PinSignerTests.issuedAt, lsn: LSN(0x0000_0000_0300_0148)),
        PinToken(issuedAtMillis: PinSignerTests.issuedAt, lsn: LSN(0)),
        PinToken(issuedAtMillis: PinSignerTests.issuedAt, lsn: LSN(.max)),
    ]

    private func verify(_ value: String, now: UInt64 = PinSignerTests.issuedAt + 1, ttl: UInt64 = PinSignerTests.ttl) -> PinStatus {
        self.signer.verify(value, nowMillis: now, ttlMillis: ttl)
    }

    private static func split(_ value: String) throws -> (payload: [UInt8], mac: [UInt8]) {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 2)
        let payload = try #require(Base64URL.decode(parts[0]))
        let mac = try #require(Base64URL.decode(parts[1]))
        return (payload, mac)
    }

    private static func join(payload: [UInt8], mac: [UInt8]) -> String {
        Base64URL.encode(payload) + "." + Base64URL.encode(mac)
    }

    // MARK: - Format and round trip

    @Test("the token is base64url(payload).base64url(HMAC-SHA256(key, payload)), unpadded", arguments: PinSignerTests.tokens)
    func wireFormat(token: PinToken) {
        let value = self.signer.sign(token)
        #expect(value == ReferenceHMAC.token(payload: token.payload, key: PinSignerTests.key))
        #expect(!value.contains("="))
        #expect(value.filter { $0 == "." }.count == 1)
        #expect(value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
        // Short enough for the verifier's length guard and for any cookie jar.
        #expect(value.utf8.count <= 80)
    }

    @Test("sign then verify gives the same token back, with and without an LSN", arguments: PinSignerTests.tokens)
    func roundTrip(token: PinToken) {
        let status = self.verify(self.signer.sign(token))
        #expect(status == .valid(token))
        if case .valid(let parsed) = status {
            #expect(parsed.lsn == token.lsn)
            #expect(parsed.issuedAtMillis == token.issuedAtMillis)
        }
        #expect(status.logValue == "valid")
    }

    @Test("another instance with the same secret accepts the token")
    func sharedSecretAcrossInstances() throws {
        let token = try #require(PinSignerTests.tokens.last)
        let other = PinSigner(key: PinSignerTests.key)
        #expect(other.verify(self.signer.sign(token), nowMillis: PinSignerTests.issuedAt, ttlMillis: PinSignerTests.ttl) == .valid(token))
    }

    @Test("signing is deterministic")
    func deterministic() {
        let token = PinToken(issuedAtMillis: 123, lsn: LSN(456))
        #expect(self.signer.sign(token) == self.signer.sign(token))
        #expect(self.signer.sign(token) != self.signer.sign(PinToken(issuedAtMillis: 124, lsn: LSN(456))))
        #expect(self.signer.sign(token) != self.signer.sign(PinToken(issuedAtMillis: 123, lsn: LSN(457))))
    }

    @Test("a substring cookie value verifies like a string")
    func substringValue() throws {
        let token = PinToken(issuedAtMillis: PinSignerTests.issuedAt, lsn: LSN(99))
        let header = "a=b; switchyard_pin=\(self.signer.sign(token)); c=d"
        let pairs = header.split(separator: ";").map { pair in pair.drop { character in character == " " } }
        let cookie = try #require(pairs.first { pair in pair.hasPrefix("switchyard_pin=") })
        let value = cookie.dropFirst("switchyard_pin=".count)
        #expect(self.signer.verify(value, nowMillis: PinSignerTests.issuedAt, ttlMillis: PinSignerTests.ttl) == .valid(token))
    }

    // MARK: - none / invalid shapes

    @Test("an empty value is .none, whatever the clock")
    func emptyIsNone() {
        #expect(self.verify("") == PinStatus.none)
        #expect(self.verify("", now: 0, ttl: 0) == PinStatus.none)
        #expect(PinStatus.none.logValue == "none")
    }

    @Test("flipping any bit of any payload byte (MAC kept) is invalid", arguments: PinSignerTests.tokens)
    func payloadByteFlipped(token: PinToken) throws {
        let (payload, mac) = try Self.split(self.signer.sign(token))
        for index in payload.indices {
            for mask: UInt8 in [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff] {
                var tampered = payload
                tampered[index] ^= mask
                #expect(self.verify(Self.join(payload: tampered, mac: mac)) == .invalid, "payload byte \(index) ^ \(mask)")
            }
        }
    }

    @Test("flipping any bit of any MAC byte is invalid", arguments: PinSignerTests.tokens)
    func macByteFlipped(token: PinToken) throws {
        let (payload, mac) = try Self.split(self.signer.sign(token))
        #expect(mac.count == 32)
        for index in mac.indices {
            for mask: UInt8 in [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff] {
                var tampered = mac
                tampered[index] ^= mask
                #expect(self.verify(Self.join(payload: payload, mac: tampered)) == .invalid, "MAC byte \(index) ^ \(mask)")
            }
        }
    }

    @Test("replacing any one character of the text by any other alphabet character is invalid")
    func characterSubstituted() throws {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for token in PinSignerTests.tokens {
            let characters = Array(self.signer.sign(token))
            for index in characters.indices {
                for replacement in alphabet where replacement != characters[index] {
                    var tampered = characters
                    tampered[index] = replacement
                    let status = self.verify(String(tampered))
                    if status != .invalid {
                        Issue.record("position \(index) -> \(replacement) gave \(status.logValue)")
                    }
                }
            }
        }
    }

    @Test("a truncated MAC or payload is invalid: every proper prefix and suffix", arguments: PinSignerTests.tokens)
    func truncated(token: PinToken) throws {
        let value = self.signer.sign(token)
        for length in 1..<value.count {
            #expect(self.verify(String(value.prefix(length))) == .invalid, "prefix of \(length)")
            #expect(self.verify(String(value.suffix(length))) == .invalid, "suffix of \(length)")
        }
    }

    @Test("a MAC cut short by whole bytes is invalid, down to an empty MAC", arguments: [0, 1, 16, 20, 31])
    func shortMAC(keptBytes: Int) throws {
        let (payload, mac) = try Self.split(self.signer.sign(PinSignerTests.tokens[1]))
        #expect(self.verify(Self.join(payload: payload, mac: Array(mac.prefix(keptBytes)))) == .invalid)
    }

    @Test("a MAC with extra bytes appended is invalid")
    func longMAC() throws {
        let (payload, mac) = try Self.split(self.signer.sign(PinSignerTests.tokens[1]))
        #expect(self.verify(Self.join(payload: payload, mac: mac + [0])) == .invalid)
        #expect(self.verify(Self.join(payload: payload, mac: mac + mac)) == .invalid)
    }

    @Test("an extra or missing dot is invalid")
    func dots() throws {
        let value = self.signer.sign(PinSignerTests.tokens[1])
        let parts = value.split(separator: ".").map(String.init)
        try #require(parts.count == 2)
        let (head, tail) = (parts[0], parts[1])
        let candidates: [String] = [
            value + ".",
            "." + value,
            head + ".." + tail,
            value + "." + tail,
            head + "." + head + "." + tail,
            head + tail,
            head,
            "." + tail,
            head + ".",
            ".",
            "..",
        ]
        for candidate in candidates {
            #expect(self.verify(candidate) == .invalid, "\(candidate)")
        }
    }

    @Test("padding '=' anywhere is invalid")
    func padding() throws {
        let value = self.signer.sign(PinSignerTests.tokens[0])
        let parts = value.split(separator: ".").map(String.init)
        try #require(parts.count == 2)
        let (head, tail) = (parts[0], parts[1])
        let candidates: [String] = [
            value + "=",
            value + "==",
            head + "=." + tail,
            head + "==." + tail,
            "=" + value,
        ]
        for candidate in candidates {
            #expect(self.verify(candidate) == .invalid, "\(candidate)")
        }
    }

    @Test("characters outside the alphabet (whitespace, standard base64, escapes, non-ASCII) are invalid")
    func foreignCharacters() {
        let value = self.signer.sign(PinSignerTests.tokens[1])
        for inserted in [" ", "\t", "+", "/", "%", "\"", ";", ",", "é", "\u{0}", "\u{301}"] {
            for position in [0, 5, value.count / 2, value.count - 1, value.count] {
                var tampered = value
                tampered.insert(contentsOf: inserted, at: tampered.index(tampered.startIndex, offsetBy: position))
                #expect(self.verify(tampered) == .invalid, "\(inserted.unicodeScalars.map { $0.value }) at \(position)")
            }
        }
        // The same token spelled in standard base64 is not accepted.
        let standard = String(value.map { $0 == "-" ? "+" : ($0 == "_" ? "/" : $0) })
        if standard != value {
            #expect(self.verify(standard) == .invalid)
        }
        #expect(self.verify("\"" + value + "\"") == .invalid)
    }

    @Test("a token signed with another key is invalid", arguments: PinSignerTests.tokens)
    func wrongKey(token: PinToken) {
        var otherKey = PinSignerTests.key
        otherKey[otherKey.count - 1] ^= 0x01
        // (Not `key + [0]`: HMAC pads short keys with zeros, so that one is the same key.)
        let keys: [[UInt8]] = [otherKey, Array(PinSignerTests.key.dropLast()), PinSignerTests.key + [1], [], PinSigner.randomKey()]
        for key in keys {
            let forged = PinSigner(key: key).sign(token)
            #expect(self.verify(forged) == .invalid)
            #expect(self.verify(ReferenceHMAC.token(payload: token.payload, key: key)) == .invalid)
        }
    }

    @Test(
        "a correctly signed payload with an unknown version or flags is invalid",
        arguments: [(UInt8(0), UInt8(0)), (2, 0), (0xff, 0), (2, 1), (1, 2), (1, 3), (1, 0x80), (1, 0xff)]
    )
    func unknownVersionOrFlags(version: UInt8, flags: UInt8) {
        for base in PinSignerTests.tokens {
            var payload = base.payload
            payload[0] = version
            payload[1] = flags
            #expect(self.verify(ReferenceHMAC.token(payload: payload, key: PinSignerTests.key)) == .invalid)
        }
    }

    @Test("a correctly signed payload of the wrong length is invalid", arguments: [0, 1, 2, 9, 11, 17, 19, 26, 40])
    func wrongLength(length: Int) {
        for flags: UInt8 in [0, 1] {
            var payload = PinToken(issuedAtMillis: PinSignerTests.issuedAt, lsn: LSN(12345)).payload
            payload[1] = flags
            while payload.count < length {
                payload.append(0)
            }
            payload = Array(payload.prefix(length))
            #expect(self.verify(ReferenceHMAC.token(payload: payload, key: PinSignerTests.key)) == .invalid, "length \(length), flags \(flags)")
        }
    }

    @Test("an over-long value is invalid without being parsed")
    func overLong() {
        let value = self.signer.sign(PinSignerTests.tokens[1])
        #expect(self.verify(value + String(repeating: "A", count: 40)) == .invalid)
        #expect(self.verify(String(repeating: "A", count: 10_000) + "." + String(repeating: "A", count: 10_000)) == .invalid)
        #expect(self.verify(String(repeating: "A", count: 81)) == .invalid)
        // A long payload with a genuine MAC is still refused.
        let longPayload = PinToken(issuedAtMillis: PinSignerTests.issuedAt, lsn: LSN(1)).payload + [UInt8](repeating: 0, count: 64)
        #expect(self.verify(ReferenceHMAC.token(payload: longPayload, key: PinSignerTests.key)) == .invalid)
    }

    @Test("garbage of every kind is invalid, never a crash", arguments: ["x", "abc", "a.b", "AAAA.AAAA", "%%%", "😀.😀", "null", "undefined", " "])
    func garbage(value: String) {
        #expect(self.verify(value) == .invalid)
        #expect(PinStatus.invalid.logValue == "invalid")
    }

    // MARK: - Time

    @Test("age == ttl is expired; ttl - 1 ms is valid; age 0 is valid", arguments: PinSignerTests.tokens)
    func expiryBoundary(token: PinToken) {
        let value = self.signer.sign(token)
        #expect(self.verify(value, now: PinSignerTests.issuedAt) == .valid(token))
        #expect(self.verify(value, now: PinSignerTests.issuedAt + PinSignerTests.ttl - 1) == .valid(token))
        #expect(self.verify(value, now: PinSignerTests.issuedAt + PinSignerTests.ttl) == .expired)
        #expect(self.verify(value, now: PinSignerTests.issuedAt + PinSignerTests.ttl + 1) == .expired)
        #expect(self.verify(value, now: PinSignerTests.issuedAt + 86_400_000) == .expired)
        #expect(PinStatus.expired.logValue == "expired")
    }

    @Test("a token from the future is valid up to ttl ahead (clock skew), invalid beyond", arguments: PinSignerTests.tokens)
    func futureToken(token: PinToken) {
        let value = self.signer.sign(token)
        #expect(self.verify(value, now: PinSignerTests.issuedAt - 1) == .valid(token))
        #expect(self.verify(value, now: PinSignerTests.issuedAt - PinSignerTests.ttl) == .valid(token))
        #expect(self.verify(value, now: PinSignerTests.issuedAt - PinSignerTests.ttl - 1) == .invalid)
        #expect(self.verify(value, now: 0) == .invalid)
    }

    @Test("a tampered old token is invalid, not expired (the signature is checked first)")
    func tamperedBeatsExpired() throws {
        let (payload, mac) = try Self.split(self.signer.sign(PinSignerTests.tokens[1]))
        var tampered = mac
        tampered[0] ^= 1
        #expect(self.verify(Self.join(payload: payload, mac: tampered), now: PinSignerTests.issuedAt + 10 * PinSignerTests.ttl) == .invalid)
    }

    @Test("extreme clocks do not trap")
    func extremeClocks() {
        let ancient = self.signer.sign(PinToken(issuedAtMillis: 0))
        #expect(self.signer.verify(ancient, nowMillis: .max, ttlMillis: PinSignerTests.ttl) == .expired)
        #expect(self.signer.verify(ancient, nowMillis: 0, ttlMillis: .max) == .valid(PinToken(issuedAtMillis: 0)))
        let farFuture = self.signer.sign(PinToken(issuedAtMillis: .max))
        #expect(self.signer.verify(farFuture, nowMillis: 0, ttlMillis: PinSignerTests.ttl) == .invalid)
        #expect(self.signer.verify(farFuture, nowMillis: .max, ttlMillis: 0) == .expired)
    }

    @Test("a zero ttl expires every token issued now or earlier")
    func zeroTTL() {
        let value = self.signer.sign(PinSignerTests.tokens[0])
        #expect(self.verify(value, now: PinSignerTests.issuedAt, ttl: 0) == .expired)
        #expect(self.verify(value, now: PinSignerTests.issuedAt - 1, ttl: 0) == .invalid)
    }

    // MARK: - Keys

    @Test("random keys are 256 bits and differ")
    func randomKeys() {
        let first = PinSigner.randomKey()
        let second = PinSigner.randomKey()
        #expect(first.count == 32)
        #expect(second.count == 32)
        #expect(first != second)
        let token = PinToken(issuedAtMillis: 10, lsn: LSN(20))
        let value = PinSigner(key: first).sign(token)
        #expect(PinSigner(key: first).verify(value, nowMillis: 10, ttlMillis: 1) == .valid(token))
        #expect(PinSigner(key: second).verify(value, nowMillis: 10, ttlMillis: 1) == .invalid)
    }

    @Test("a key longer than the HMAC block is hashed as RFC 2104 says")
    func longKey() {
        let longKey = [UInt8](repeating: 0xaa, count: 131)
        let token = PinToken(issuedAtMillis: 77, lsn: LSN(88))
        #expect(PinSigner(key: longKey).sign(token) == ReferenceHMAC.token(payload: token.payload, key: longKey))
    }
}
