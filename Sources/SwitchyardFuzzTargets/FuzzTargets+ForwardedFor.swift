import SwitchyardCore

extension FuzzTargets {
    /// Directives, one per line, fields separated by tabs:
    ///
    ///     peer     ADDRESS           (the TCP peer; default 127.0.0.1)
    ///     xff      VALUE             (an incoming X-Forwarded-For, any number)
    ///     proto    VALUE / xhost VALUE / host VALUE
    ///     trusted  CIDR              (trusted_proxies; unparsable ones are dropped, as the loader refuses them)
    ///
    /// Invariants: an untrusted peer's headers are replaced (X-Forwarded-For
    /// and X-Real-IP are the peer, proto `http`, host the Host header); for a
    /// trusted peer X-Forwarded-For ends with the peer, and X-Real-IP is the
    /// peer or an address of the chain every address right of which parses
    /// and is trusted (never a value an untrusted client chose to put
    /// further left); every address printed parses back to itself.
    public static func forwardedFor(_ bytes: UnsafeRawBufferPointer) throws(FuzzFailure) {
        let target = FuzzTarget.forwardedFor
        let input = FuzzLines(bytes)
        let peer = input.first("peer")?.field(0).map(String.init) ?? "127.0.0.1"
        let incoming = input.all("xff").prefix(32).map { String($0.field(0) ?? "") }
        let proto = input.first("proto")?.field(0).map(String.init)
        let incomingHost = input.first("xhost")?.field(0).map(String.init)
        let host = input.first("host")?.field(0).map(String.init)
        let trusted = input.all("trusted").prefix(16).compactMap { CIDR(parsing: String($0.field(0) ?? "")) }

        let result = ForwardedHeaders.compute(
            peer: peer, incomingForwardedFor: incoming, incomingProto: proto, incomingHost: incomingHost, host: host,
            trustedProxies: trusted)

        let peerAddress = IPAddress(parsing: peer)
        if let peerAddress {
            try FuzzFailure.check(IPAddress(parsing: peerAddress.description) == peerAddress, target, "\(peer) prints as \(peerAddress)")
        }
        let peerTrusted = peerAddress.map { ForwardedHeaders.isTrusted($0, trusted) } ?? false
        guard peerTrusted else {
            try FuzzFailure.check(
                result.forwardedFor == peer && result.forwardedProto == "http" && result.forwardedHost == host && result.realIP == peer,
                target, "untrusted peer \(peer): \(result), expected its own address, http and the Host header")
            return
        }
        try FuzzFailure.check(
            result.forwardedFor == peer || result.forwardedFor.hasSuffix(", " + peer),
            target,
            "X-Forwarded-For \(result.forwardedFor.debugDescription) does not end with the peer \(peer)"
        )
        // The chain as the reference reads it: comma-separated, trimmed of spaces and tabs.
        // HTTP lists are bytes: split at every comma, whatever follows it.
        let chain: [String] = incoming.flatMap { value in
            value.unicodeScalars.split(separator: ",").map { element in
                var scalars = Array(element)
                while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
                while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
                var text = ""
                text.unicodeScalars.append(contentsOf: scalars)
                return text
            }.filter { !$0.isEmpty }
        }
        let expectedProto = proto.flatMap { $0.isEmpty ? nil : $0 } ?? "http"
        let expectedHost = incomingHost.flatMap { $0.isEmpty ? nil : $0 } ?? host
        try FuzzFailure.check(
            result.forwardedProto == expectedProto && result.forwardedHost == expectedHost, target,
            "trusted peer: proto \(result.forwardedProto), host \(String(describing: result.forwardedHost))")
        // nginx's real_ip_recursive, walked here over the reference chain: from the
        // right, through trusted addresses, to the first untrusted one; an element
        // that is not an address ends the walk where it stands.
        var expectedRealIP = peer
        for element in chain.reversed() {
            guard let address = IPAddress(parsing: element) else { break }
            expectedRealIP = address.description
            if !ForwardedHeaders.isTrusted(address, trusted) { break }
        }
        try FuzzFailure.check(
            result.realIP == expectedRealIP, target,
            "X-Real-IP \(result.realIP) for chain \(chain) via trusted peer \(peer), expected \(expectedRealIP)")
        let expectedFor = chain.isEmpty ? peer : chain.joined(separator: ", ") + ", " + peer
        try FuzzFailure.check(
            result.forwardedFor == expectedFor, target,
            "X-Forwarded-For \(result.forwardedFor.debugDescription), expected \(expectedFor.debugDescription)")
        if result.realIP != peer {
            guard let realAddress = IPAddress(parsing: result.realIP) else {
                throw FuzzFailure(target: target.rawValue, message: "X-Real-IP \(result.realIP.debugDescription) is not an address")
            }
            try FuzzFailure.check(
                chain.contains { IPAddress(parsing: $0) == realAddress }, target,
                "X-Real-IP \(result.realIP) is in neither the chain nor the peer")
        }
    }
}
