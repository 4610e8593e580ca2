import Foundation

/// One HTTP/1.1 response as read off the wire by ``RawHTTPClient`` / ``TestHTTPClient``.
public struct TestResponse: Sendable, CustomStringConvertible {
    /// The protocol version of the status line, e.g. `"HTTP/1.1"`.
    public var version: String
    public var status: Int
    public var reason: String
    /// Header fields in wire order, duplicates kept, names as sent.
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Trailer fields of a chunked body (empty otherwise).
    public var trailers: [(String, String)]
    /// The response head exactly as received (status line and header lines, without the final CRLF CRLF).
    public var rawHead: String

    public init(
        version: String = "HTTP/1.1",
        status: Int,
        reason: String = "",
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        trailers: [(String, String)] = [],
        rawHead: String = ""
    ) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.trailers = trailers
        self.rawHead = rawHead
    }

    /// The first value of the header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        self.headers.first { $0.0.caseInsensitiveEquals(name) }?.1
    }

    /// All values of the header `name` (case-insensitive) in wire order.
    public func headers(named name: String) -> [String] {
        self.headers.filter { $0.0.caseInsensitiveEquals(name) }.map(\.1)
    }

    /// Whether a header `name` is present at all.
    public func hasHeader(_ name: String) -> Bool {
        self.header(name) != nil
    }

    /// The body decoded as UTF-8 (invalid sequences repaired).
    public var bodyString: String {
        String(decoding: self.body, as: UTF8.self)
    }

    /// Whether the server announced that it will close the connection after this response.
    public var closesConnection: Bool {
        let tokens = self.headers(named: "Connection").flatMap { value in
            value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        }
        if tokens.contains("close") { return true }
        if self.version == "HTTP/1.0" { return !tokens.contains("keep-alive") }
        return false
    }

    /// Decodes the body as the JSON that ``FakeAppServer``'s `.echo` behavior produces.
    public func echo() throws -> EchoResponse {
        try JSONDecoder().decode(EchoResponse.self, from: Data(self.body))
    }

    public var description: String {
        "\(self.version) \(self.status) \(self.reason) (\(self.headers.count) headers, \(self.body.count) body bytes)"
    }
}

/// The JSON body of a ``FakeAppServer/Behavior/echo`` response.
public struct EchoResponse: Codable, Sendable, Equatable {
    public var server: String
    public var method: String
    public var uri: String
    /// Lowercased header names; repeated headers joined with ", ".
    public var headers: [String: String]
    public var bodyBytes: Int

    public init(server: String, method: String, uri: String, headers: [String: String], bodyBytes: Int) {
        self.server = server
        self.method = method
        self.uri = uri
        self.headers = headers
        self.bodyBytes = bodyBytes
    }

    enum CodingKeys: String, CodingKey {
        case server
        case method
        case uri
        case headers
        case bodyBytes = "body_bytes"
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        guard self.utf8.count == other.utf8.count else { return false }
        return zip(self.utf8, other.utf8).allSatisfy { lhs, rhs in
            lhs.asciiLowercased == rhs.asciiLowercased
        }
    }
}

extension UInt8 {
    var asciiLowercased: UInt8 {
        (0x41...0x5A).contains(self) ? self | 0x20 : self
    }
}
