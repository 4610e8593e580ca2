import SwitchyardCore
import Testing

@Suite("Base64URL: unpadded, URL-safe, strict and canonical")
struct Base64URLTests {
    /// RFC 4648 §10 vectors, without their padding.
    @Test(
        "RFC 4648 test vectors encode and decode",
        arguments: [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ]
    )
    func rfcVectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test(
        "uses '-' and '_' where standard base64 uses '+' and '/'",
        arguments: [
            ([UInt8]([0xfb, 0xff, 0xbf]), "-_-_"),
            ([0xff], "_w"),
            ([0xff, 0xff], "__8"),
            ([0xf8], "-A"),
            ([0x00, 0x00, 0x00], "AAAA"),
        ]
    )
    func urlSafeAlphabet(bytes: [UInt8], encoded: String) {
        #expect(Base64URL.encode(bytes) == encoded)
        #expect(Base64URL.decode(encoded) == bytes)
    }

    @Test("every byte value and every length up to 70 round trip, matching an independent encoder")
    func roundTrip() {
        let allBytes = (0...255).map { UInt8($0) }
        #expect(Base64URL.decode(Base64URL.encode(allBytes)) == allBytes)
        #expect(Base64URL.encode(allBytes) == Base64URLReference.encode(allBytes))
        for length in 0...70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length &* 11) }
            let encoded = Base64URL.encode(bytes)
            #expect(encoded == Base64URLReference.encode(bytes), "length \(length)")
            #expect(encoded.utf8.count == (length * 8 + 5) / 6, "unpadded length for \(length) bytes")
            #expect(!encoded.contains("="))
            #expect(Base64URL.decode(encoded) == bytes, "length \(length)")
        }
    }

    @Test(
        "padding is rejected",
        arguments: ["Zg==", "Zg=", "Zm8=", "Zm9vYg==", "Zm9v=", "=", "===="]
    )
    func paddingRejected(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test(
        "characters outside the URL-safe alphabet are rejected",
        arguments: [
            // Lengths kept away from 4n+1 so that the alphabet check, not the length check, rejects them.
            "Zm9+", "Zm9/", "+/8", "Zm 9", " Zm9", "Zm9 ", "Zm9vYg\n", "Zm9v\r\n", "Z\t9v", "Zm.9", "Zm9v%3D", "Zé9",
            "Zm9\u{0}", "Zm😀9",
        ]
    )
    func foreignCharactersRejected(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test(
        "a length of 4n+1 characters is rejected (no whole byte in the last character)",
        arguments: ["Z", "Zm9vY", "AAAAA", "Zm9vYmFyZ"]
    )
    func impossibleLengthRejected(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    /// "Zh" would decode to "f" if the trailing bits were ignored; "Zm9" to
    /// "fo". Strict decoding keeps every token to exactly one spelling.
    @Test(
        "non-zero trailing bits are rejected (non-canonical spelling)",
        arguments: ["Zh", "Zn", "Z_", "Zm9", "Zm-", "Zm9vYh", "Zm9vYmF"]
    )
    func nonCanonicalRejected(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("the canonical spellings next to the rejected ones decode")
    func canonicalNeighbours() {
        #expect(Base64URL.decode("Zg") == Array("f".utf8))
        #expect(Base64URL.decode("Zm8") == Array("fo".utf8))
        #expect(Base64URL.decode("Zm9vYg") == Array("foob".utf8))
    }

    @Test("decodes a Substring as well as a String")
    func decodesSubstring() {
        let text = "xx.Zm9vYmFy.yy"
        let parts = text.split(separator: ".")
        #expect(parts.count == 3)
        #expect(Base64URL.decode(parts[1]) == Array("foobar".utf8))
    }
}
