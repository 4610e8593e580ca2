import SwitchyardCore
import Testing

@Suite("PinVerificationCache: remembered signatures, same answers as the signer")
struct PinVerificationCacheTests {
    static let issuedAt: UInt64 = 1_764_000_000_000
    static let ttl: UInt64 = 10_000

    let signer = PinSigner(key: Array("cache-test-secret-0123456789abcdef".utf8))

    private func token(_ offset: UInt64 = 0, lsn: LSN? = nil) -> PinToken {
        PinToken(issuedAtMillis: Self.issuedAt + offset, lsn: lsn)
    }

    @Test("a valid token is verified once, then answered from memory with the same token")
    func validTokenIsRemembered() {
        var cache = PinVerificationCache()
        let token = self.token(lsn: LSN(0x0300_0148))
        let value = self.signer.sign(token)
        for round in 0..<5 {
            let status = cache.verify(value[...], signer: self.signer, nowMillis: Self.issuedAt + 1, ttlMillis: Self.ttl)
            #expect(status == .valid(token), "round \(round)")
        }
        #expect(cache.misses == 1)
        #expect(cache.hits == 4)
    }

    @Test("expiry is evaluated on every hit against the caller's clock")
    func expiryOnHit() {
        var cache = PinVerificationCache()
        let token = self.token()
        let value = self.signer.sign(token)[...]
        #expect(cache.verify(value, signer: self.signer, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) == .valid(token))
        #expect(cache.verify(value, signer: self.signer, nowMillis: Self.issuedAt + Self.ttl - 1, ttlMillis: Self.ttl) == .valid(token))
        #expect(cache.verify(value, signer: self.signer, nowMillis: Self.issuedAt + Self.ttl, ttlMillis: Self.ttl) == .expired)
        // A shorter TTL after a reload applies to remembered tokens too.
        #expect(cache.verify(value, signer: self.signer, nowMillis: Self.issuedAt + 500, ttlMillis: 500) == .expired)
        #expect(cache.hits == 3)
    }

    @Test("a token remembered under one key is verified again under another key, and rejected")
    func keyChangeIsAMiss() {
        var cache = PinVerificationCache()
        let token = self.token()
        let value = self.signer.sign(token)[...]
        #expect(cache.verify(value, signer: self.signer, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) == .valid(token))
        let rotated = PinSigner(key: Array("another-secret-after-a-reload-0123".utf8))
        #expect(cache.verify(value, signer: rotated, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) == .invalid)
        #expect(cache.hits == 0)
        // The same key again (a reload that kept the secret) still hits.
        let sameKey = PinSigner(key: Array("cache-test-secret-0123456789abcdef".utf8))
        #expect(cache.verify(value, signer: sameKey, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) == .valid(token))
        #expect(cache.hits == 1)
    }

    @Test("forged and malformed values are never remembered: each one is checked and rejected")
    func forgedValuesAreCheckedEveryTime() {
        var cache = PinVerificationCache()
        let value = self.signer.sign(self.token())
        let forged = String(value.dropLast(2)) + (value.hasSuffix("AA") ? "BB" : "AA")
        for _ in 0..<3 {
            #expect(cache.verify(forged[...], signer: self.signer, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) == .invalid)
            #expect(cache.verify("garbage"[...], signer: self.signer, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) == .invalid)
        }
        #expect(cache.verify(""[...], signer: self.signer, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) == .none)
        #expect(cache.hits == 0)
        // Remembering the real token does not make its forgery pass.
        #expect(cache.verify(value[...], signer: self.signer, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) != .invalid)
        #expect(cache.verify(forged[...], signer: self.signer, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) == .invalid)
    }

    @Test("every byte of a value matters: one changed character is not a hit", arguments: [0, 10, 30, 60])
    func oneByteDifference(position: Int) {
        var cache = PinVerificationCache(slotCount: 1)  // every value lands in the same slot
        let value = Array(self.signer.sign(self.token(lsn: LSN(7))).utf8)
        #expect(cache.verify(Substring(decoding: value, as: UTF8.self), signer: self.signer, nowMillis: Self.issuedAt, ttlMillis: Self.ttl) != .invalid)
        var changed = value
        changed[position] = changed[position] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let status = cache.verify(Substring(decoding: changed, as: UTF8.self), signer: self.signer, nowMillis: Self.issuedAt, ttlMillis: Self.ttl)
        #expect(status == .invalid)
        #expect(cache.hits == 0)
    }

    @Test("colliding tokens replace each other and both stay valid")
    func collisions() {
        var cache = PinVerificationCache(slotCount: 1)
        let first = self.token(1)
        let second = self.token(2)
        let firstValue = self.signer.sign(first)[...]
        let secondValue = self.signer.sign(second)[...]
        for _ in 0..<3 {
            #expect(cache.verify(firstValue, signer: self.signer, nowMillis: Self.issuedAt + 5, ttlMillis: Self.ttl) == .valid(first))
            #expect(cache.verify(secondValue, signer: self.signer, nowMillis: Self.issuedAt + 5, ttlMillis: Self.ttl) == .valid(second))
        }
        #expect(cache.hits == 0)
        #expect(cache.misses == 6)
    }

    @Test("agrees with the signer on every value of a mixed stream, over many tokens in 64 slots")
    func agreesWithSigner() {
        var cache = PinVerificationCache()
        var values: [String] = []
        for index in 0..<200 {
            let value = self.signer.sign(self.token(UInt64(index * 97), lsn: index.isMultiple(of: 2) ? LSN(UInt64(index)) : nil))
            values.append(value)
            values.append(String(value.dropFirst()))
        }
        for round in 0..<3 {
            for (index, value) in values.enumerated() {
                let now = Self.issuedAt + UInt64(round * 6_000)
                let expected = self.signer.verify(value, nowMillis: now, ttlMillis: Self.ttl)
                let cached = cache.verify(value[...], signer: self.signer, nowMillis: now, ttlMillis: Self.ttl)
                #expect(cached == expected, "value \(index), round \(round)")
            }
        }
        #expect(cache.hits > 0)
    }
}
