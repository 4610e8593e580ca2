import NIOHTTP1

extension FuzzTargets {
    /// Header lines `NAME: VALUE` (split at the first colon, the value's
    /// leading spaces dropped) into `HTTPHeaders`, through `strip`: the
    /// header-hygiene function of the HTTPProxy module, passed in because this
    /// module does not depend on HTTPProxy (the callers pass
    /// `FuzzEntries.stripHopByHop`).
    ///
    /// Invariants (RFC 9110 §7.6.1, SPEC §4): the result is the input less
    /// exactly the headers named `Connection`, `Keep-Alive`, `TE`,
    /// `Trailer`, `Transfer-Encoding`, `Upgrade`, `Proxy-*`,
    /// `X-Switchyard-*` and every name listed in a `Connection` header
    /// (comma-separated, optional spaces and tabs around each, case-insensitive),
    /// order kept; stripping twice changes nothing more.
    public static func headerHygiene(_ bytes: UnsafeRawBufferPointer, strip: (inout HTTPHeaders) -> Void) throws(FuzzFailure) {
        let target = FuzzTarget.headerHygiene
        var pairs: [(String, String)] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let name: Substring
            var value: Substring
            if let colon = line.firstIndex(of: ":") {
                name = line[..<colon]
                value = line[line.index(after: colon)...]
            } else {
                name = line
                value = ""
            }
            value = value.drop { $0 == " " }
            // NIO's parser answers 400 to a name that is not an RFC 9110 token.
            guard Self.isToken(name) else { continue }
            pairs.append((String(name), String(value)))
        }
        var headers = HTTPHeaders(pairs)
        strip(&headers)
        let stripped = headers.map { ($0.name, $0.value) }

        // The reference, on unicode scalars (HTTP is bytes: no grapheme clustering).
        // Names are tokens, hence ASCII; Connection elements are lowered the way
        // the proxy lowers them (a non-ASCII element names no header anyway).
        func lowercasedASCII(_ text: String) -> String {
            text.lowercased()
        }
        var listed = Set<String>()
        for (name, value) in pairs where lowercasedASCII(name) == "connection" {
            for element in value.unicodeScalars.split(separator: ",") {
                var scalars = Array(element)
                while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
                while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
                var token = ""
                token.unicodeScalars.append(contentsOf: scalars)
                if !token.isEmpty { listed.insert(lowercasedASCII(token)) }
            }
        }
        let hopByHop: Set<String> = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]
        let expected = pairs.filter { name, _ in
            let lower = lowercasedASCII(name)
            return !(hopByHop.contains(lower) || lower.hasPrefix("proxy-") || lower.hasPrefix("x-switchyard-") || listed.contains(lower))
        }
        try FuzzFailure.check(
            stripped.count == expected.count && zip(stripped, expected).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 },
            target,
            "strip kept \(stripped.map(\.0)), expected \(expected.map(\.0)) (listed by Connection: \(listed.sorted()))"
        )
        var again = headers
        strip(&again)
        try FuzzFailure.check(again == headers, target, "a second strip removed more: \(again.map(\.name)) from \(headers.map(\.name))")
    }

    static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "!", "#", "$", "%", "&", "'", "*", "+", "-", ".", "^", "_", "`", "|", "~":
                return true
            default:
                return false
            }
        }
    }
}
