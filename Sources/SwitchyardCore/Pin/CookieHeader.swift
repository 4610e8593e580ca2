/// Finds one cookie in a `Cookie` request header (RFC 6265 §4.2.1:
/// `name=value` pairs separated by `;` and optional spaces), without
/// allocating: the scan runs over the header's UTF-8 bytes.
public enum CookieHeader {
    /// The value of the first cookie called `name` in `header`, with
    /// surrounding spaces and one pair of double quotes removed; nil when the
    /// header has no such cookie. Names compare exactly (cookie names are
    /// case-sensitive).
    public static func value(named name: String, in header: Substring) -> Substring? {
        let bytes = header.utf8
        let nameBytes = name.utf8
        var pairStart = bytes.startIndex
        while pairStart < bytes.endIndex {
            let pairEnd = bytes[pairStart...].firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
            var cursor = pairStart
            while cursor < pairEnd, bytes[cursor] == UInt8(ascii: " ") || bytes[cursor] == UInt8(ascii: "\t") {
                bytes.formIndex(after: &cursor)
            }
            if let equals = bytes[cursor..<pairEnd].firstIndex(of: UInt8(ascii: "=")),
                bytes[cursor..<equals].elementsEqual(nameBytes)
            {
                var valueStart = bytes.index(after: equals)
                var valueEnd = pairEnd
                while valueStart < valueEnd, bytes[valueStart] == UInt8(ascii: " ") {
                    bytes.formIndex(after: &valueStart)
                }
                while valueEnd > valueStart, bytes[bytes.index(before: valueEnd)] == UInt8(ascii: " ") {
                    bytes.formIndex(before: &valueEnd)
                }
                if bytes.distance(from: valueStart, to: valueEnd) >= 2, bytes[valueStart] == UInt8(ascii: "\""),
                    bytes[bytes.index(before: valueEnd)] == UInt8(ascii: "\"")
                {
                    bytes.formIndex(after: &valueStart)
                    bytes.formIndex(before: &valueEnd)
                }
                return Substring(bytes[valueStart..<valueEnd])
            }
            guard pairEnd < bytes.endIndex else { break }
            pairStart = bytes.index(after: pairEnd)
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
