/// SplitMix64: a tiny deterministic generator, so the mutation runs are the
/// same on every machine and a failure names a reproducible iteration.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// libFuzzer-like mutations of corpus inputs (without coverage feedback):
/// bit flips, byte changes, inserted and erased ranges, interesting bytes,
/// copies within the input and splices with another input.
enum Mutator {
    static let interesting: [[UInt8]] = [
        [0], [0xFF], [0x80], [0xC3], [0xE2, 0x80, 0xA8], [0xCC, 0x81], Array("\r\n".utf8), Array("\t".utf8),
        Array(",".utf8), Array(";".utf8), Array("=".utf8), Array(":".utf8), Array("\"".utf8), Array("/".utf8),
        Array(" ".utf8), Array("\n".utf8), Array("*a".utf8), Array("&a ".utf8), Array("<<: ".utf8), Array("{".utf8),
        Array("[".utf8), Array("- ".utf8), Array("'".utf8), Array("999999999999999999999".utf8), Array("%".utf8),
        Array("::ffff:".utf8), Array("/128".utf8), Array("\\1".utf8), Array("(a*)*".utf8), Array("{9999}".utf8),
    ]

    static func mutate(_ input: [UInt8], other: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where !bytes.isEmpty:
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 2:
                let token = self.interesting[Int.random(in: 0..<self.interesting.count, using: &rng)]
                bytes.insert(contentsOf: token, at: Int.random(in: 0...bytes.count, using: &rng))
            case 3 where !bytes.isEmpty:
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                let end = min(bytes.count, start + Int.random(in: 1...16, using: &rng))
                bytes.removeSubrange(start..<end)
            case 4 where !bytes.isEmpty:
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                let end = min(bytes.count, start + Int.random(in: 1...32, using: &rng))
                bytes.insert(contentsOf: bytes[start..<end], at: Int.random(in: 0...bytes.count, using: &rng))
            case 5 where !other.isEmpty:
                let start = Int.random(in: 0..<other.count, using: &rng)
                let end = min(other.count, start + Int.random(in: 1...64, using: &rng))
                bytes.insert(contentsOf: other[start..<end], at: Int.random(in: 0...bytes.count, using: &rng))
            default:
                bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
            }
        }
        return Array(bytes.prefix(8192))
    }
}
