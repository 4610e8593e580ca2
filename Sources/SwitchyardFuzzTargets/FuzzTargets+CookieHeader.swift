import SwitchyardCore

extension FuzzTargets {
    /// The pin cookie's default name (SPEC §2 `pin.cookie`).
    static let defaultCookieName = "switchyard_pin"

    /// The bytes as `Cookie` header values, one per line; a first line
    /// `name=NAME` looks that cookie up instead of `switchyard_pin`.
    ///
    /// Invariants: `CookieHeader.value(named:in:)` agrees with a plain
    /// split-based reading of RFC 6265 §4.2.1 (pairs split at `;`, leading
    /// spaces and tabs skipped, the name compared exactly, the value trimmed
    /// of spaces and one pair of double quotes); the value it returns is a
    /// slice of the header; `pinStatus` over all the lines is the status of
    /// the first line holding the cookie.
    public static func cookieHeader(_ bytes: UnsafeRawBufferPointer) throws(FuzzFailure) {
        let target = FuzzTarget.cookieHeader
        var headers = String(decoding: bytes, as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        var name = Self.defaultCookieName
        if let first = headers.first, first.hasPrefix("name=") {
            name = String(first.dropFirst(5))
            headers.removeFirst()
        }
        for header in headers {
            let found = CookieHeader.value(named: name, in: header[...])
            let expected = Self.referenceCookieValue(named: name, in: header)
            try FuzzFailure.check(
                found.map(String.init) == expected,
                target,
                "cookie \(name.debugDescription) in \(header.debugDescription): \(String(describing: found)), expected \(String(describing: expected))"
            )
            if let found {
                let utf8 = header.utf8
                try FuzzFailure.check(
                    found.startIndex >= header.startIndex && found.endIndex <= header.endIndex
                        && utf8[found.startIndex..<found.endIndex].elementsEqual(found.utf8),
                    target,
                    "the value found is not a slice of the header \(header.debugDescription)"
                )
            }
        }
        let signer = PinSigner(key: Self.pinKey)
        let status = CookieHeader.pinStatus(
            headers, name: name, signer: signer, nowMillis: Self.pinNowMillis, ttlMillis: Self.pinTTLMillis)
        let decisive = headers.lazy.compactMap { Self.referenceCookieValue(named: name, in: $0) }.first
        let expected = decisive.map { signer.verify($0, nowMillis: Self.pinNowMillis, ttlMillis: Self.pinTTLMillis) } ?? PinStatus.none
        try FuzzFailure.check(status == expected, target, "pinStatus \(status), expected \(expected)")
    }

    /// RFC 6265 §4.2.1 read the simple way: split, trim, compare.
    static func referenceCookieValue(named name: String, in header: String) -> String? {
        for pair in header.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false) {
            let trimmed = pair.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            guard let equals = trimmed.firstIndex(of: UInt8(ascii: "=")) else { continue }
            guard trimmed[trimmed.startIndex..<equals].elementsEqual(name.utf8) else { continue }
            var value = Array(trimmed[trimmed.index(after: equals)...])
            while value.first == UInt8(ascii: " ") { value.removeFirst() }
            while value.last == UInt8(ascii: " ") { value.removeLast() }
            if value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") {
                value = Array(value.dropFirst().dropLast())
            }
            return String(decoding: value, as: UTF8.self)
        }
        return nil
    }
}
