/// The `X-Forwarded-*` / `X-Real-IP` values for an upstream request (SPEC §4),
/// computed from the peer address, the incoming headers and `trusted_proxies`.
public struct ForwardedHeaders: Sendable, Hashable {
    public var forwardedFor: String
    public var forwardedProto: String
    public var forwardedHost: String?
    public var realIP: String

    /// - Parameters:
    ///   - peer: the TCP peer's address text.
    ///   - incomingForwardedFor: every incoming `X-Forwarded-For` value, in order.
    ///   - incomingProto / incomingHost: the incoming `X-Forwarded-Proto` / `-Host`.
    ///   - host: the request's `Host` header.
    public static func compute(
        peer: String,
        incomingForwardedFor: [String],
        incomingProto: String?,
        incomingHost: String?,
        host: String?,
        trustedProxies: [CIDR]
    ) -> ForwardedHeaders {
        // No trusted proxies (the common case): nothing to parse.
        let peerTrusted = !trustedProxies.isEmpty && (IPAddress(parsing: peer).map { Self.isTrusted($0, trustedProxies) } ?? false)
        guard peerTrusted else {
            return ForwardedHeaders(forwardedFor: peer, forwardedProto: "http", forwardedHost: host, realIP: peer)
        }
        // The chain as the trusted peer reports it, then the peer itself.
        // Split and trimmed as bytes (an HTTP list is bytes): a String split would
        // keep a comma followed by a combining mark inside one element.
        var chain: [Substring] = []
        for value in incomingForwardedFor {
            for element in value.utf8.split(separator: UInt8(ascii: ",")) {
                let trimmed = Substring(element).trimmingSpaces()
                if !trimmed.isEmpty { chain.append(trimmed) }
            }
        }
        let forwardedFor = chain.isEmpty ? peer : chain.joined(separator: ", ") + ", " + peer
        // nginx real_ip_recursive: from the right, the first address not trusted.
        // An element that is not an address stops the walk there (it was written
        // by someone we do not trust, so nothing left of it is believed either).
        var realIP = peer
        for element in chain.reversed() {
            guard let address = IPAddress(parsing: element) else { break }
            realIP = address.description
            if !Self.isTrusted(address, trustedProxies) { break }
        }
        return ForwardedHeaders(
            forwardedFor: forwardedFor,
            forwardedProto: incomingProto.flatMap { $0.isEmpty ? nil : $0 } ?? "http",
            forwardedHost: incomingHost.flatMap { $0.isEmpty ? nil : $0 } ?? host,
            realIP: realIP
        )
    }

    public static func isTrusted(_ address: IPAddress, _ trustedProxies: [CIDR]) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs, as bytes (a space
    /// followed by a combining mark is still a space here).
    func trimmingSpaces() -> Substring {
        var bytes = self.utf8[...]
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
        return Substring(bytes)
    }
}
