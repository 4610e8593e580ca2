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
        let count = bytes.count
        var pairStart = 0
        while pairStart < count {
            var pairEnd = pairStart
            while pairEnd < count, bytes[pairEnd] != UInt8(ascii: ";") {
                pairEnd += 1
            }
            var cursor = pairStart
            while cursor < pairEnd, bytes[cursor] == UInt8(ascii: " ") || bytes[cursor] == UInt8(ascii: "\t") {
                cursor += 1
            }
            var equals = cursor
            while equals < pairEnd, bytes[equals] != UInt8(ascii: "=") {
                equals += 1
            }
            if equals < pairEnd, UnsafeBufferPointer(rebasing: bytes[cursor..<equals]).elementsEqual(name.utf8) {
                var valueStart = equals + 1
                var valueEnd = pairEnd
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
            pairStart = pairEnd + 1
        }
        return nil
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
