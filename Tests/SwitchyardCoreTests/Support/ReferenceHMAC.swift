/// An independent SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), written
/// from the standards for the tests only. It lets the pin tests
/// - check the token's wire format exactly as SPEC §3 states it, without
///   reusing the code under test, and
/// - sign payloads the production code would never produce (unknown version
///   or flags, wrong lengths) with a *valid* MAC, so that the payload parser's
///   own checks are exercised rather than the signature check.
enum ReferenceHMAC {
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    private static func rotateRight(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value >> count) | (value << (32 - count))
    }

    static func sha256(_ message: [UInt8]) -> [UInt8] {
        var state: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 {
            padded.append(0)
        }
        let bitLength = UInt64(message.count) &* 8
        for shift in stride(from: 56, through: 0, by: -8) {
            padded.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        var schedule = [UInt32](repeating: 0, count: 64)
        for chunkStart in stride(from: 0, to: padded.count, by: 64) {
            for i in 0..<16 {
                let offset = chunkStart + 4 * i
                schedule[i] = UInt32(padded[offset]) << 24 | UInt32(padded[offset + 1]) << 16
                    | UInt32(padded[offset + 2]) << 8 | UInt32(padded[offset + 3])
            }
            for i in 16..<64 {
                let s0 = self.rotateRight(schedule[i - 15], 7) ^ self.rotateRight(schedule[i - 15], 18) ^ (schedule[i - 15] >> 3)
                let s1 = self.rotateRight(schedule[i - 2], 17) ^ self.rotateRight(schedule[i - 2], 19) ^ (schedule[i - 2] >> 10)
                schedule[i] = schedule[i - 16] &+ s0 &+ schedule[i - 7] &+ s1
            }
            var a = state[0], b = state[1], c = state[2], d = state[3]
            var e = state[4], f = state[5], g = state[6], h = state[7]
            for i in 0..<64 {
                let sigma1 = self.rotateRight(e, 6) ^ self.rotateRight(e, 11) ^ self.rotateRight(e, 25)
                let choose = (e & f) ^ (~e & g)
                let temp1 = h &+ sigma1 &+ choose &+ self.roundConstants[i] &+ schedule[i]
                let sigma0 = self.rotateRight(a, 2) ^ self.rotateRight(a, 13) ^ self.rotateRight(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let temp2 = sigma0 &+ majority
                h = g
                g = f
                f = e
                e = d &+ temp1
                d = c
                c = b
                b = a
                a = temp1 &+ temp2
            }
            state[0] = state[0] &+ a
            state[1] = state[1] &+ b
            state[2] = state[2] &+ c
            state[3] = state[3] &+ d
            state[4] = state[4] &+ e
            state[5] = state[5] &+ f
            state[6] = state[6] &+ g
            state[7] = state[7] &+ h
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in state {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        let blockSize = 64
        var blockKey = key.count > blockSize ? self.sha256(key) : key
        blockKey.append(contentsOf: [UInt8](repeating: 0, count: blockSize - blockKey.count))
        let inner = self.sha256(blockKey.map { $0 ^ 0x36 } + message)
        return self.sha256(blockKey.map { $0 ^ 0x5c } + inner)
    }

    /// A cookie value `base64url(payload).base64url(HMAC-SHA256(key, payload))`
    /// for an arbitrary payload, as SPEC §3 defines the token.
    static func token(payload: [UInt8], key: [UInt8]) -> String {
        Base64URLReference.encode(payload) + "." + Base64URLReference.encode(self.hmacSHA256(key: key, message: payload))
    }
}

/// An independent, deliberately naive unpadded base64url encoder (RFC 4648 §5).
enum Base64URLReference {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    static func encode(_ bytes: [UInt8]) -> String {
        var bits: [Bool] = []
        for byte in bytes {
            for shift in stride(from: 7, through: 0, by: -1) {
                bits.append((byte >> UInt8(shift)) & 1 == 1)
            }
        }
        while bits.count % 6 != 0 {
            bits.append(false)
        }
        var output = ""
        for start in stride(from: 0, to: bits.count, by: 6) {
            var value = 0
            for bit in bits[start..<(start + 6)] {
                value = value << 1 | (bit ? 1 : 0)
            }
            output.append(self.alphabet[value])
        }
        return output
    }
}

/// `"0a1b"` -> `[0x0a, 0x1b]`; nil for odd lengths or non-hex text.
func bytesFromHex(_ hex: String) -> [UInt8]? {
    let characters = Array(hex)
    guard characters.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    for index in stride(from: 0, to: characters.count, by: 2) {
        guard let byte = UInt8(String(characters[index...index + 1]), radix: 16) else { return nil }
        bytes.append(byte)
    }
    return bytes
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let text = String(byte, radix: 16)
        return text.count == 1 ? "0" + text : text
    }.joined()
}
