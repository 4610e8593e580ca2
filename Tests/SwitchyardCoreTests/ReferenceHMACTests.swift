import Testing

/// The tests' own HMAC-SHA256 must be right before the pin tests lean on it.
@Suite("Reference HMAC-SHA256 (test helper) against published vectors")
struct ReferenceHMACTests {
    @Test(
        "SHA-256 of the FIPS 180-4 examples",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ]
    )
    func sha256(message: String, expected: String) {
        #expect(hexString(ReferenceHMAC.sha256(Array(message.utf8))) == expected)
    }

    @Test("HMAC-SHA256 of RFC 4231 test cases 1, 2 and 6 (key longer than a block)")
    func hmacVectors() throws {
        let case1Key = [UInt8](repeating: 0x0b, count: 20)
        #expect(
            hexString(ReferenceHMAC.hmacSHA256(key: case1Key, message: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        )
        #expect(
            hexString(ReferenceHMAC.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        )
        let case6Key = [UInt8](repeating: 0xaa, count: 131)
        let case6Message = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        #expect(
            hexString(ReferenceHMAC.hmacSHA256(key: case6Key, message: case6Message))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        )
    }

    @Test("hex helpers round trip")
    func hexHelpers() throws {
        let bytes = try #require(bytesFromHex("00ff10ab"))
        #expect(bytes == [0x00, 0xff, 0x10, 0xab])
        #expect(hexString(bytes) == "00ff10ab")
        #expect(bytesFromHex("abc") == nil)
        #expect(bytesFromHex("zz") == nil)
    }
}
