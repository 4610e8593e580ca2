/// A `host:port` or `[v6]:port` address as written in the configuration.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: `127.0.0.1`, `::1`, `app.internal`.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`. Returns nil for anything else
    /// (missing port, port outside 0...65535, empty host, unbracketed v6).
    public init?(parsing text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard !host.isEmpty, host.contains(":"), IPAddress(parsing: host) != nil, rest.hasPrefix(":") else { return nil }
            guard let port = ServerAddress.parsePort(rest.dropFirst()) else { return nil }
            self.init(host: host, port: port)
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            let host = String(text[..<colon])
            guard !host.isEmpty, !host.contains(":"), !host.contains(where: { $0 == " " || $0 == "/" }) else { return nil }
            guard let port = ServerAddress.parsePort(text[text.index(after: colon)...]) else { return nil }
            self.init(host: host, port: port)
        }
    }

    private static func parsePort(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(text),
            port <= 65535
        else { return nil }
        return port
    }

    /// `host:port`, or `[host]:port` for IPv6 hosts.
    public var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}
