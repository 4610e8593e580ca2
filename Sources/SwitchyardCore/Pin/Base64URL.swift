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
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            output.append(self.alphabet[Int(b0 >> 2)])
            output.append(self.alphabet[Int(((b0 & 0x03) << 4) | ((b1 ?? 0) >> 4))])
            if let b1 {
                output.append(self.alphabet[Int(((b1 & 0x0F) << 2) | ((b2 ?? 0) >> 6))])
            }
            if let b2 {
                output.append(self.alphabet[Int(b2 & 0x3F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        // Straight over the text's UTF-8 view: no copy of the input.
        let input = text.utf8
        let count = input.count
        guard count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = self.reverse[Int(byte)]
            guard value != 0xFF else { return nil }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero (canonical encoding).
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}
