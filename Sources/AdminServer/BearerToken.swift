/// The admin bearer token (SPEC §2 `admin.token_env`), compared in constant time.
struct BearerToken: Sendable {
    private let expected: [UInt8]

    /// Nil for an empty token (an empty token would let anyone in).
    init?(_ token: String) {
        guard !token.isEmpty else { return nil }
        self.expected = Array(token.utf8)
    }

    /// Whether `candidate` is the token. The time taken depends only on the
    /// candidate's length, never on where it first differs.
    func matches(_ candidate: some Collection<UInt8>) -> Bool {
        var difference = UInt(bitPattern: self.expected.count ^ candidate.count)
        var index = 0
        for byte in candidate {
            difference |= UInt(byte ^ self.expected[index % self.expected.count])
            index += 1
        }
        return difference == 0
    }

    func matches(_ candidate: String) -> Bool {
        self.matches(Array(candidate.utf8))
    }

    /// The token from an `Authorization: Bearer <token>` value (scheme case-insensitive), if that is what it is.
    static func credential(fromAuthorization value: String) -> Substring? {
        let trimmed = value.drop(while: { $0 == " " || $0 == "\t" })
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        guard trimmed[..<space].lowercased() == "bearer" else { return nil }
        var credential = trimmed[space...].drop(while: { $0 == " " || $0 == "\t" })
        while let last = credential.last, last == " " || last == "\t" {
            credential = credential.dropLast()
        }
        return credential.isEmpty ? nil : credential
    }
}
