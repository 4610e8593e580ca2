/// Finds one cookie in a `Cookie` request header (RFC 6265 §4.2.1:
/// `name=value` pairs separated by `;` and optional spaces), without
/// allocating: the scan runs over the header's contiguous UTF-8 bytes.
public enum CookieHeader {
    /// The value of the first cookie called `name` in `header`, with
    /// surrounding spaces and one pair of double quotes removed; nil when the
    /// header has no such cookie. Names compare exactly (cookie names are
    /// case-sensitive).
    public static func value(named name: String, in header: Substring) -> Substring? {
        let utf8 = header.utf8
        // Scanned as contiguous bytes (always available for native strings).
        let found =
            utf8.withContiguousStorageIfAvailable { Self.valueRange(named: name, in: $0) }
            ?? Array(utf8).withUnsafeBufferPointer { Self.valueRange(named: name, in: $0) }
        guard let found else { return nil }
        let start = utf8.index(utf8.startIndex, offsetBy: found.lowerBound)
        let end = utf8.index(start, offsetBy: found.count)
        return Substring(utf8[start..<end])
    }

    /// The offsets of the value `value(named:in:)` returns, in a header's
    /// bytes (the request path scans them where they were read).
    public static func valueRange(named name: String, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        // The name's bytes where they are (a small string's on the stack):
        // compared with each pair's as bytes, not through String's UTF-8 view
        // a byte at a time (~400 instructions a pair).
        let found: Range<Int>?? = name.utf8.withContiguousStorageIfAvailable { Self.valueRange(named: $0, in: bytes) }
        if let found {
            return found
        }
        return Array(name.utf8).withUnsafeBufferPointer { Self.valueRange(named: $0, in: bytes) }
    }

    private static func valueRange(named name: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        // A pair's name runs to its first `=` and a pair to its first `;`: a
        // name holding either matches no pair.
        guard !name.contains(UInt8(ascii: "=")), !name.contains(UInt8(ascii: ";")) else { return nil }
        let count = bytes.count
        var pairStart = 0
        while pairStart < count {
            var cursor = pairStart
            while cursor < count, bytes[cursor] == UInt8(ascii: " ") || bytes[cursor] == UInt8(ascii: "\t") {
                cursor += 1
            }
            // The pair's name is `name` when `name`'s bytes are there and an
            // `=` right after them (they hold no `=` or `;`, so that `=` is
            // the pair's first).
            let equals = cursor + name.count
            if equals < count, bytes[equals] == UInt8(ascii: "="), Self.bytes(bytes, at: cursor, equal: name) {
                var valueStart = equals + 1
                var valueEnd = valueStart
                while valueEnd < count, bytes[valueEnd] != UInt8(ascii: ";") {
                    valueEnd += 1
                }
                while valueStart < valueEnd, bytes[valueStart] == UInt8(ascii: " ") {
                    valueStart += 1
                }
                while valueEnd > valueStart, bytes[valueEnd - 1] == UInt8(ascii: " ") {
                    valueEnd -= 1
                }
                if valueEnd - valueStart >= 2, bytes[valueStart] == UInt8(ascii: "\""), bytes[valueEnd - 1] == UInt8(ascii: "\"") {
                    valueStart += 1
                    valueEnd -= 1
                }
                return valueStart..<valueEnd
            }
            // The next pair.
            while cursor < count, bytes[cursor] != UInt8(ascii: ";") {
                cursor += 1
            }
            pairStart = cursor + 1
        }
        return nil
    }

    /// Whether `bytes` holds `name` at `offset` (which leaves room for it).
    /// A loop of its own: the standard library's `elementsEqual` over the two
    /// buffers' slices, tried instead, cost ~300 more instructions a `Cookie`
    /// header in the release build (it walks two iterators).
    private static func bytes(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, equal name: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in 0..<name.count where bytes[offset + index] != name[index] {
            return false
        }
        return true
    }

    /// The pin status a request's `Cookie` headers carry: the first header
    /// holding a cookie called `name` decides.
    public static func pinStatus<Headers: Sequence>(
        _ cookieHeaders: Headers, name: String, signer: PinSigner, nowMillis: UInt64, ttlMillis: UInt64
    ) -> PinStatus where Headers.Element == String {
        for header in cookieHeaders {
            if let value = self.value(named: name, in: header[...]) {
                return signer.verify(value, nowMillis: nowMillis, ttlMillis: ttlMillis)
            }
        }
        return .none
    }
}
