/// One admin request, aggregated (bodies here are small).
struct AdminRequest: Sendable {
    var method: String
    /// The path without the query string.
    var path: String
    /// Query parameters, percent-decoded (`+` is kept as a plus); the first of a repeated name wins.
    var query: [String: String]
    /// The `Authorization` header value, if any.
    var authorization: String?
    /// The `Host` header value, if any.
    var host: String?
    /// The `Origin` header value, if any (browsers send it on cross-site POSTs).
    var origin: String?
    var body: [UInt8]
    /// The peer's IP address (for the audit line of a drain).
    var peer: String?

    init(
        method: String, path: String, query: [String: String] = [:], authorization: String? = nil, host: String? = nil,
        origin: String? = nil, body: [UInt8] = [], peer: String? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.authorization = authorization
        self.host = host
        self.origin = origin
        self.body = body
        self.peer = peer
    }

    /// Splits a request target into path and query.
    init(method: String, uri: String, authorization: String?, host: String?, origin: String?, body: [UInt8], peer: String?) {
        let (path, query) = AdminRequest.split(uri: uri)
        self.init(
            method: method, path: path, query: query, authorization: authorization, host: host, origin: origin, body: body,
            peer: peer)
    }

    /// True when a browser says this request comes from a page of another origin
    /// (`Origin` present and its host:port differs from `Host`). Requests without
    /// `Origin` (curl, scripts, same-origin GETs) are not cross-origin.
    var isCrossOrigin: Bool {
        guard let origin = self.origin else { return false }
        guard let host = self.host, let colon = origin.firstIndex(of: ":") else { return true }
        let rest = origin[origin.index(after: colon)...]
        guard rest.hasPrefix("//") else { return true }
        return rest.dropFirst(2).lowercased() != host.lowercased()
    }

    static func split(uri: String) -> (path: String, query: [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else {
            return (uri, [:])
        }
        let path = String(uri[..<mark])
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = pair.firstIndex(of: "=") {
                name = pair[..<equals]
                value = pair[pair.index(after: equals)...]
            } else {
                name = pair
                value = ""
            }
            guard let decodedName = AdminRequest.percentDecoded(name), query[decodedName] == nil,
                let decodedValue = AdminRequest.percentDecoded(value)
            else { continue }
            query[decodedName] = decodedValue
        }
        return (path, query)
    }

    /// `%XX` decoding; nil for a malformed escape or bytes that are not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(AdminRequest.hexValue),
                    let low = iterator.next().flatMap(AdminRequest.hexValue)
                else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
