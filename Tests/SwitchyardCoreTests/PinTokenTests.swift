import SwitchyardCore
import Testing

@Suite("PinToken: payload layout and parsing")
struct PinTokenTests {
    @Test("the current version is 1")
    func currentVersion() {
        #expect(PinToken.currentVersion == 1)
    }

    @Test("without an LSN: version 1, flags 0, issue time big-endian; 10 bytes")
    func payloadWithoutLSN() {
        let token = PinToken(issuedAtMillis: 0x0102_0304_0506_0708)
        #expect(token.lsn == nil)
        #expect(token.payload == [1, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
    }

    @Test("with an LSN: version 1, flags 1, issue time then LSN, both big-endian; 18 bytes")
    func payloadWithLSN() {
        let token = PinToken(issuedAtMillis: 0x0102_0304_0506_0708, lsn: LSN(0x1112_1314_1516_1718))
        #expect(
            token.payload == [
                1, 1, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
            ]
        )
    }

    @Test(
        "payloads round trip",
        arguments: [
            PinToken(issuedAtMillis: 0),
            PinToken(issuedAtMillis: 1_764_000_000_123),
            PinToken(issuedAtMillis: .max),
            PinToken(issuedAtMillis: 0, lsn: LSN(0)),
            PinToken(issuedAtMillis: 1_764_000_000_123, lsn: LSN(0x0000_0000_0300_0148)),
            PinToken(issuedAtMillis: .max, lsn: LSN(.max)),
        ]
    )
    func roundTrip(token: PinToken) throws {
        let parsed = try #require(PinToken(payload: token.payload))
        #expect(parsed == token)
        #expect(parsed.lsn == token.lsn)
        #expect(parsed.issuedAtMillis == token.issuedAtMillis)
    }

    @Test("an LSN of 0/0 is still an LSN (flag set), not 'no LSN'")
    func zeroLSNIsAnLSN() throws {
        let token = PinToken(issuedAtMillis: 5, lsn: LSN(0))
        #expect(token.payload.count == 18)
        #expect(token.payload[1] == 1)
        let parsed = try #require(PinToken(payload: token.payload))
        #expect(parsed.lsn == LSN(0))
    }

    @Test("an unknown version is rejected", arguments: [UInt8(0), 2, 3, 0x7f, 0x80, 0xff])
    func unknownVersion(version: UInt8) {
        var withoutLSN = PinToken(issuedAtMillis: 1_000).payload
        withoutLSN[0] = version
        #expect(PinToken(payload: withoutLSN) == nil)
        var withLSN = PinToken(issuedAtMillis: 1_000, lsn: LSN(77)).payload
        withLSN[0] = version
        #expect(PinToken(payload: withLSN) == nil)
    }

    @Test("unknown flags are rejected, at either length", arguments: [UInt8(2), 3, 4, 0x80, 0x81, 0xfe, 0xff])
    func unknownFlags(flags: UInt8) {
        var short = PinToken(issuedAtMillis: 1_000).payload
        short[1] = flags
        #expect(PinToken(payload: short) == nil)
        var long = PinToken(issuedAtMillis: 1_000, lsn: LSN(77)).payload
        long[1] = flags
        #expect(PinToken(payload: long) == nil)
    }

    @Test("every length but 10 (flags 0) and 18 (flags 1) is rejected")
    func wrongLengths() {
        for length in 0...40 {
            for flags: UInt8 in [0, 1] {
                var payload = [UInt8](repeating: 0x42, count: length)
                if length > 0 { payload[0] = 1 }
                if length > 1 { payload[1] = flags }
                let acceptable = (flags == 0 && length == 10) || (flags == 1 && length == 18)
                #expect((PinToken(payload: payload) != nil) == acceptable, "length \(length), flags \(flags)")
            }
        }
    }

    @Test("an LSN-less token with 8 trailing bytes, or an LSN token without them, is rejected")
    func flagAndLengthMustAgree() {
        var claimsNoLSN = PinToken(issuedAtMillis: 9, lsn: LSN(1)).payload
        claimsNoLSN[1] = 0
        #expect(PinToken(payload: claimsNoLSN) == nil)
        var claimsLSN = PinToken(issuedAtMillis: 9).payload
        claimsLSN[1] = 1
        #expect(PinToken(payload: claimsLSN) == nil)
    }

    @Test("parses from any collection of bytes (an ArraySlice here)")
    func parsesFromSlice() throws {
        let framed = [0xAA] + PinToken(issuedAtMillis: 42, lsn: LSN(7)).payload + [0xBB]
        let parsed = try #require(PinToken(payload: framed[1..<(framed.count - 1)]))
        #expect(parsed == PinToken(issuedAtMillis: 42, lsn: LSN(7)))
    }
}
