/// Unpadded base64url (RFC 4648 §5), strict on decode: no padding, no
/// whitespace, no characters outside the URL-safe alphabet, no non-zero
/// trailing bits (so every token has exactly one spelling).
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in Base64URL.alphabet.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Array(bytes).withUnsafeBytes { input in
            String(unsafeUninitializedCapacity: Self.encodedCount(input.count)) { output in
                Self.encode(input, into: UnsafeMutableRawBufferPointer(output))
            }
        }
    }

    /// The characters `encode` gives for `count` bytes.
    public static func encodedCount(_ count: Int) -> Int {
        (count * 4 + 2) / 3
    }

    /// `encode` into `output`, without an array or a string; returns the
    /// characters written. `output` must hold `encodedCount(bytes.count)`
    /// (the callers' buffers are sized for fixed-length payloads and codes).
    public static func encode(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        precondition(output.count >= Self.encodedCount(bytes.count), "Base64URL.encode: output too small")
        return Self.alphabet.withUnsafeBufferPointer { alphabet in
            var written = 0
            var index = 0
            while index < bytes.count {
                let b0 = bytes[index]
                let b1: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
                let b2: UInt8? = index + 2 < bytes.count ? bytes[index + 2] : nil
                output[written] = alphabet[Int(b0 >> 2)]
                output[written + 1] = alphabet[Int(((b0 & 0x03) << 4) | ((b1 ?? 0) >> 4))]
                written += 2
                if let b1 {
                    output[written] = alphabet[Int(((b1 & 0x0F) << 2) | ((b2 ?? 0) >> 6))]
                    written += 1
                }
                if let b2 {
                    output[written] = alphabet[Int(b2 & 0x3F)]
                    written += 1
                }
                index += 3
            }
            return written
        }
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        // Straight over a native string's UTF-8: no copy of the input.
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ Self.decodedArray(UnsafeRawBufferPointer($0)) }) {
            return decoded
        }
        return Array(text.utf8).withUnsafeBytes { Self.decodedArray($0) }
    }

    private static func decodedArray(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        var valid = true
        let output = [UInt8](unsafeUninitializedCapacity: input.count * 3 / 4) { buffer, count in
            guard let written = Self.decode(input, into: UnsafeMutableRawBufferPointer(buffer)) else {
                valid = false
                count = 0
                return
            }
            count = written
        }
        return valid ? output : nil
    }

    /// `decode` into `output`, without an array; nil for text that is not
    /// canonical unpadded base64url, or when `output` (`count * 3 / 4` bytes
    /// hold any valid text of `count` characters) is too small.
    public static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let count = text.count
        guard count % 4 != 1 else { return nil }
        return Self.reverse.withUnsafeBufferPointer { reverse -> Int? in
            var written = 0
            var accumulator: UInt32 = 0
            var bits = 0
            for byte in text {
                let value = reverse[Int(byte)]
                guard value != 0xFF else { return nil }
                accumulator = (accumulator << 6) | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    guard written < output.count else { return nil }
                    output[written] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                    written += 1
                }
            }
            // Leftover bits must be zero (canonical encoding).
            guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
            return written
        }
    }
}
