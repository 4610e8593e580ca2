import NIOHTTP1
import SwitchyardCore

/// Hop-by-hop header removal (RFC 9110 §7.6.1, SPEC §4) and the
/// `X-Switchyard-*` namespace rule, for both directions.
///
/// Runs twice per request, so it compares names as ASCII bytes, ignoring case,
/// without lower-casing copies, and leaves the headers untouched (no copy at
/// all) when there is nothing to remove.
package enum HeaderHygiene {
    /// What never crosses the proxy in a header list: hop-by-hop names,
    /// `Proxy-*`, `X-Switchyard-*` and the names the list's `Connection`
    /// headers name. The request path (`ClientRequestHead.upstreamHead`)
    /// and `strip` both ask it; responses are filtered on their bytes by
    /// `UpstreamResponseParser` with the same `isRemoved`.
    struct Filter {
        /// Names `Connection` lists that are not removed anyway (the common
        /// `keep-alive` and `close` are, so this is usually empty).
        let listed: [Substring]

        /// `hasConnection: false` skips looking for `Connection` headers (the
        /// caller's scan saw none).
        init(_ headers: HTTPHeaders, hasConnection: Bool = true) {
            var listed: [Substring] = []
            if hasConnection {
                for (name, value) in headers where HeaderHygiene.equalsIgnoringCase(name, "connection") {
                    HeaderHygiene.forEachListElement(value) { token in
                        if !HeaderHygiene.isRemoved(token) { listed.append(token) }
                    }
                }
            }
            self.listed = listed
        }

        func drops(_ name: String) -> Bool {
            HeaderHygiene.isRemoved(name) || (!self.listed.isEmpty && self.listed.contains { HeaderHygiene.namesEqualIgnoringCase(bytes: name.utf8, $0.utf8) })
        }
    }

    /// Removes what `Filter` drops. Returns whether an `X-Switchyard-*`
    /// header was among them. Leaves the list untouched (no copy) when there
    /// is nothing to remove.
    @discardableResult
    package static func strip(_ headers: inout HTTPHeaders) -> Bool {
        var needsWork = false
        var hasConnection = false
        var hasSwitchyard = false
        for (name, _) in headers where Self.isRemoved(name) {
            needsWork = true
            if Self.equalsIgnoringCase(name, "connection") {
                hasConnection = true
            } else if Self.hasPrefixIgnoringCase(name, "x-switchyard-") {
                hasSwitchyard = true
            }
        }
        guard needsWork else { return false }
        let filter = Filter(headers, hasConnection: hasConnection)
        var kept: [(String, String)] = []
        kept.reserveCapacity(headers.count)
        for (name, value) in headers where !filter.drops(name) {
            kept.append((name, value))
        }
        headers = HTTPHeaders(kept)
        return hasSwitchyard
    }

    /// Calls `body` with each non-empty element of a comma-separated list,
    /// without the spaces and tabs around it. Splits on the bytes (a `String`
    /// split would work on grapheme clusters, and a comma followed by a
    /// combining mark is one cluster: two elements would stay one).
    static func forEachListElement(_ value: String, _ body: (Substring) -> Void) {
        let utf8 = value.utf8
        func each(_ bytes: UnsafeRawBufferPointer) {
            Self.forEachListElement(bytes: bytes, in: 0..<bytes.count) { range in
                let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
                body(Substring(utf8[start..<utf8.index(start, offsetBy: range.count)]))
            }
        }
        if utf8.withContiguousStorageIfAvailable({ each(UnsafeRawBufferPointer($0)) }) == nil {
            Array(utf8).withUnsafeBytes(each)
        }
    }

    /// `forEachListElement` over bytes: the offsets of each element within `range`.
    static func forEachListElement(bytes: UnsafeRawBufferPointer, in range: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = range.lowerBound
        while start < range.upperBound {
            var end = start
            while end < range.upperBound, bytes[end] != UInt8(ascii: ",") { end += 1 }
            var first = start
            var last = end
            while first < last, bytes[first] == UInt8(ascii: " ") || bytes[first] == UInt8(ascii: "\t") { first += 1 }
            while last > first, bytes[last - 1] == UInt8(ascii: " ") || bytes[last - 1] == UInt8(ascii: "\t") { last -= 1 }
            if first < last { body(first..<last) }
            start = end + 1
        }
    }

    /// Whether `name` never crosses the proxy: a hop-by-hop name, `Proxy-*` or `X-Switchyard-*`.
    static func isRemoved(_ name: some StringProtocol) -> Bool {
        Self.isRemoved(bytes: name.utf8)
    }

    /// `isRemoved` over a name's bytes (responses are filtered before any `String` exists).
    static func isRemoved<Bytes: Collection<UInt8>>(bytes name: Bytes) -> Bool {
        guard let first = name.first else { return false }
        switch first | 0x20 {
        case UInt8(ascii: "c"): return Self.equalsIgnoringCase(bytes: name, "connection")
        case UInt8(ascii: "k"): return Self.equalsIgnoringCase(bytes: name, "keep-alive")
        case UInt8(ascii: "t"):
            return Self.equalsIgnoringCase(bytes: name, "te") || Self.equalsIgnoringCase(bytes: name, "trailer")
                || Self.equalsIgnoringCase(bytes: name, "transfer-encoding")
        case UInt8(ascii: "u"): return Self.equalsIgnoringCase(bytes: name, "upgrade")
        case UInt8(ascii: "p"): return Self.hasPrefixIgnoringCase(bytes: name, "proxy-")
        case UInt8(ascii: "x"): return Self.hasPrefixIgnoringCase(bytes: name, "x-switchyard-")
        default: return false
        }
    }

    /// ASCII case-insensitive equality with a lower-case `target`.
    static func equalsIgnoringCase(_ text: some StringProtocol, _ target: StaticString) -> Bool {
        Self.equalsIgnoringCase(bytes: text.utf8, target)
    }

    static func hasPrefixIgnoringCase(_ text: some StringProtocol, _ prefix: StaticString) -> Bool {
        Self.hasPrefixIgnoringCase(bytes: text.utf8, prefix)
    }

    static func equalsIgnoringCase<Bytes: Collection<UInt8>>(bytes: Bytes, _ target: StaticString) -> Bool {
        guard bytes.count == target.utf8CodeUnitCount else { return false }
        return Self.matchesPrefix(bytes, target)
    }

    static func hasPrefixIgnoringCase<Bytes: Collection<UInt8>>(bytes: Bytes, _ prefix: StaticString) -> Bool {
        guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
        return Self.matchesPrefix(bytes, prefix)
    }

    /// Whether `utf8` starts with `target` (its caller checked the length).
    /// `target` is lower-case letters and bytes below 0x40 (digits, `-`):
    /// the header names and tokens the proxy looks for.
    private static func matchesPrefix<View: Collection<UInt8>>(_ utf8: View, _ target: StaticString) -> Bool {
        target.withUTF8Buffer { expected in
            assert(expected.allSatisfy { $0 < 0x40 || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) }, "\(target)")
            if let matched = utf8.withContiguousStorageIfAvailable({ Self.startsWithFolded(UnsafeRawBufferPointer($0), UnsafeRawBufferPointer(expected)) }) {
                return matched
            }
            var index = utf8.startIndex
            for byte in expected {
                let actual = utf8[index]
                // Lower-case ASCII letters only: `| 0x20` would also fold e.g. `[` into `{`.
                let folded = actual >= UInt8(ascii: "A") && actual <= UInt8(ascii: "Z") ? actual | 0x20 : actual
                if folded != byte { return false }
                utf8.formIndex(after: &index)
            }
            return true
        }
    }

    /// `matchesPrefix` over contiguous bytes, eight at a time (head bytes and
    /// native strings): each word of `bytes`, with bit 0x20 set where
    /// `expected` has a letter, must equal `expected`'s. At a letter that folds
    /// exactly the upper-case letter onto the lower-case one; anywhere else
    /// (`expected` below 0x40) the bytes must be equal. So the result is the
    /// byte loop's for every input (`HeaderHygieneUnitTests` holds it to it).
    static func startsWithFolded(_ bytes: UnsafeRawBufferPointer, _ expected: UnsafeRawBufferPointer) -> Bool {
        let count = expected.count
        guard count <= bytes.count else { return false }
        guard count >= 8 else {
            for index in 0..<count {
                let target = expected[index]
                if bytes[index] | ((target & 0x40) >> 1) != target { return false }
            }
            return true
        }
        // Whole words, the last one overlapping the one before when the
        // length is no multiple of eight.
        var offset = 0
        while offset < count {
            let position = min(offset, count - 8)
            let target = expected.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            let actual = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            if actual | ((target & 0x4040_4040_4040_4040) >> 1) != target { return false }
            offset += 8
        }
        return true
    }

    /// `Connection` lists names case-insensitively; compare two runtime names.
    /// (Not an `equalsIgnoringCase` overload: a call with a string literal
    /// would pick this one, the literal becoming a `Substring`, over the
    /// `StaticString` version meant for literals.)
    static func namesEqualIgnoringCase<Left: Collection<UInt8>, Right: Collection<UInt8>>(bytes left: Left, _ right: Right) -> Bool {
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { a, b in
            let foldedA = a >= UInt8(ascii: "A") && a <= UInt8(ascii: "Z") ? a | 0x20 : a
            let foldedB = b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
            return foldedA == foldedB
        }
    }
}
