import SwitchyardCore

/// What HTTPProxy's `ClientRequestParser` made of the bytes a client sent,
/// in the order `next()` returned it, and what the proxy would write to the
/// app server for each head. Built by the caller of
/// `FuzzTargets.clientRequest(_:parse:)`, `FuzzEntries.clientRequest` (the parser is `package` in
/// HTTPProxy, which this module does not depend on).
public struct ClientRequestSummary: Sendable, Equatable {
    /// `RequestFraming`.
    public enum Framing: Sendable, Equatable {
        case none
        case length(Int)
        case chunked
    }

    /// `ClientRequestHead`.
    public struct Head: Sendable, Equatable {
        /// The head as received: request line through the blank line.
        public var bytes: [UInt8]
        public var method: String
        /// The bytes of `target` (offsets into `bytes`).
        public var target: [UInt8]
        public var isHTTP10: Bool
        public var framing: Framing
        public var keepAlive: Bool
        public var hostCount: Int
        public var expectsContinue: Bool
        /// The forwarded header lines as `ProxyServerHandler.encodeUpstreamHead`
        /// copies them: each run's bytes over `bytes`, in order.
        public var forwarded: [UInt8]
        /// The head the app server is sent: `encodeUpstreamHead` with the
        /// forwarding headers of `FuzzTargets.clientRequestForwarded` and, for
        /// a head without Host, `FuzzTargets.clientRequestLocalHost` as the
        /// Host fallback (as `ProxyServerHandler.receivedHead` calls it).
        public var upstream: [UInt8]

        public init(
            bytes: [UInt8], method: String, target: [UInt8], isHTTP10: Bool, framing: Framing, keepAlive: Bool, hostCount: Int,
            expectsContinue: Bool, forwarded: [UInt8], upstream: [UInt8]
        ) {
            self.bytes = bytes
            self.method = method
            self.target = target
            self.isHTTP10 = isHTTP10
            self.framing = framing
            self.keepAlive = keepAlive
            self.hostCount = hostCount
            self.expectsContinue = expectsContinue
            self.forwarded = forwarded
            self.upstream = upstream
        }
    }

    public enum Event: Sendable, Equatable {
        case head(Head)
        /// One body slice, as returned.
        case body([UInt8])
        case end
        /// `next()` threw (the caller stops there, as the proxy answers and
        /// closes): the `ClientRequestError` case, `String(describing:)`.
        case error(String)
    }

    public var events: [Event]
    /// `bufferedBytes` once `next()` had nothing more to return (or threw).
    public var leftover: Int

    public init(events: [Event] = [], leftover: Int = 0) {
        self.events = events
        self.leftover = leftover
    }
}

extension FuzzTargets {
    /// Drives a fresh `ClientRequestParser(maximumHeadBytes:)` the way
    /// `ProxyServerHandler` does: appends each piece in turn and takes events
    /// with `next()` until it returns nil, stopping at the first error.
    /// `trustsPeer`: the client is a trusted proxy (its `X-Forwarded-*` are
    /// kept in the forwarding headers of `clientRequestForwarded`).
    public typealias ClientRequestParse = (_ pieces: [[UInt8]], _ maximumHeadBytes: Int, _ trustsPeer: Bool) -> ClientRequestSummary

    /// The client's address, as the proxy's peer.
    public static let clientRequestPeer = "192.0.2.7"
    /// The address the client reached: the Host fallback for a head without Host.
    public static let clientRequestLocalHost = "192.0.2.1:8080"
    /// `clients.max_header_bytes`: the default, and a small one (flag bit 1).
    static let clientRequestHeadLimits = (normal: 32 * 1024, small: 512)
    /// The app server's limit when the upstream request is read back: not the proxy's to enforce.
    static let upstreamHeadLimit = 1 << 20

    /// The forwarding headers `ProxyServerHandler.receivedHead` computes for
    /// a head, from `clientRequestPeer` (trusted as a proxy or not). Without
    /// the head's Host, as the proxy computes them: the upstream head copies
    /// that from the request's bytes.
    public static func clientRequestForwarded(
        trustsPeer: Bool, incomingForwardedFor: [String], incomingProto: String?, incomingHost: String?
    ) -> ForwardedHeaders {
        ForwardedHeaders.compute(
            peer: Self.clientRequestPeer,
            incomingForwardedFor: incomingForwardedFor,
            incomingProto: incomingProto,
            incomingHost: incomingHost,
            host: nil,
            trustedProxies: trustsPeer ? [CIDR(parsing: "192.0.2.0/24")].compactMap { $0 } : []
        )
    }

    /// What a client sends on a connection, through HTTPProxy's
    /// `ClientRequestParser` (driven by `parse`, see `ClientRequestParse`).
    /// The first byte holds flags (bit 0: the client is a trusted proxy;
    /// bit 1: a 512-byte head limit instead of 32 KiB; bits 2-7: a piece
    /// size, 1-64 bytes), the second where to cut the rest in two
    /// (`byte × count / 255`); the rest is the bytes the client sends.
    ///
    /// Invariants: the bytes fed whole, cut in two, in pieces of the size and
    /// one at a time give the same heads (same bytes), the same body bytes
    /// per request, the same ends, the same error (but see `sameOutcome`: a
    /// partial head refused early as malformed may be refused for another
    /// reason whole) and the same bytes left over; heads and ends alternate, no empty body slice, nothing after an
    /// error; a `.length(n)` body is n bytes at its end (none without
    /// framing). Every head accepted is one a strict reading of RFC 9112
    /// accepts (CRLF lines, a token method, a visible-ASCII target, HTTP/1.0
    /// or 1.1, no CONNECT, token names with their colon, field-value bytes,
    /// one Host on HTTP/1.1 and at most one on 1.0, one Content-Length value, `Transfer-Encoding:
    /// chunked` alone on HTTP/1.1 and without Content-Length), with its
    /// method, target, framing, keep-alive, Host count and `Expect:
    /// 100-continue` (HTTP/1.1 only); its forwarded lines are exactly its header lines less
    /// hop-by-hop names, `Proxy-*`, `X-Switchyard-*`, `Content-Length`,
    /// `Transfer-Encoding`, `X-Forwarded-For/-Proto/-Host`, `X-Real-IP`,
    /// names with `_`, `Expect: 100-continue` and the names `Connection`
    /// lists (but Host), in order, each ending in CRLF with no other CR or LF.
    /// Against the bytes (fed whole): each head follows the previous request
    /// (empty lines between), a `.length(n)` body is the n bytes after its
    /// head, a chunked body ends exactly where a strict de-chunker ends it
    /// with the same bytes (and fails or runs out where it does), a head
    /// refused is one the strict reading refuses too, and no complete head
    /// is left unparsed. The upstream request (`upstream`, then the body as
    /// the proxy frames it: as-is for a length, one chunk per slice and the
    /// last chunk for chunked) read back by a fresh parser is exactly one
    /// request, with the same method, target, framing, forwarded lines (the
    /// Host fallback first when there was no Host) and body, nothing left.
    public static func clientRequest(_ bytes: UnsafeRawBufferPointer, parse: ClientRequestParse) throws(FuzzFailure) {
        let target = FuzzTarget.clientRequest
        var reader = ByteReader(bytes)
        let flags = reader.byte()
        let cut = reader.byte()
        let input = Array(bytes.dropFirst(2))
        let trustsPeer = flags & 1 == 1
        let limit = flags & 2 == 2 ? Self.clientRequestHeadLimits.small : Self.clientRequestHeadLimits.normal
        let pieceSize = Int(flags >> 2) + 1
        let splitAt = Int(cut) * input.count / 255

        let whole = parse([input], limit, trustsPeer)
        let split = parse([Array(input[..<splitAt]), Array(input[splitAt...])], limit, trustsPeer)
        let pieces = stride(from: 0, to: input.count, by: pieceSize).map { Array(input[$0..<min(input.count, $0 + pieceSize)]) }
        let inPieces = parse(pieces, limit, trustsPeer)
        let byteByByte = parse(input.map { [$0] }, limit, trustsPeer)
        let context = "trusted peer \(trustsPeer), head limit \(limit), input \(Self.quoted(input[...]))"
        let feedings = [
            ("whole", whole), ("cut at \(splitAt)", split), ("in pieces of \(pieceSize)", inPieces), ("byte by byte", byteByByte),
        ]
        for (name, summary) in feedings {
            try Self.checkRequests(summary, limit: limit, "fed \(name), \(context)")
        }
        try Self.checkAgainstInput(whole, input, limit: limit, "fed whole, \(context)")

        // Split invariance.
        let expected = Self.normalized(whole.events)
        for (name, summary) in feedings.dropFirst() {
            let events = Self.normalized(summary.events)
            try FuzzFailure.check(
                Self.sameOutcome(events, expected) && summary.leftover == whole.leftover, target,
                "fed \(name): \(Self.describe(events)), \(summary.leftover) bytes left; "
                    + "fed whole: \(Self.describe(expected)), \(whole.leftover) bytes left; \(context)"
            )
        }

        // What the app server reads.
        for (name, summary) in feedings.prefix(2) {
            try Self.checkUpstream(summary, parse: parse, "fed \(name), \(context)")
        }
    }

    // MARK: Every way of feeding

    private static func checkRequests(_ summary: ClientRequestSummary, limit: Int, _ context: String) throws(FuzzFailure) {
        let target = FuzzTarget.clientRequest
        var head: ClientRequestSummary.Head?
        var errored = false
        var bodyCount = 0
        let described = "events \(Self.describe(summary.events)); \(context)"
        for event in summary.events {
            try FuzzFailure.check(!errored, target, "an event after an error: \(described)")
            switch event {
            case .head(let found):
                try FuzzFailure.check(head == nil, target, "a head before the previous request ended: \(described)")
                head = found
                bodyCount = 0
                try Self.checkHead(found, limit: limit, context)
            case .body(let slice):
                guard let head else {
                    throw FuzzFailure(target: target.rawValue, message: "body bytes outside a request: \(described)")
                }
                // An empty slice would go upstream as an empty chunk: the chunked terminator.
                try FuzzFailure.check(!slice.isEmpty, target, "an empty body slice: \(described)")
                bodyCount += slice.count
                switch head.framing {
                case .none:
                    throw FuzzFailure(target: target.rawValue, message: "body bytes for a request without a body: \(described)")
                case .length(let length):
                    try FuzzFailure.check(bodyCount <= length, target, "\(bodyCount) body bytes for Content-Length \(length): \(described)")
                case .chunked:
                    break
                }
            case .end:
                guard let ended = head else {
                    throw FuzzFailure(target: target.rawValue, message: "an end outside a request: \(described)")
                }
                switch ended.framing {
                case .none:
                    try FuzzFailure.check(bodyCount == 0, target, "\(bodyCount) body bytes for a request without a body: \(described)")
                case .length(let length):
                    try FuzzFailure.check(
                        bodyCount == length, target, "ended after \(bodyCount) body bytes of Content-Length \(length): \(described)")
                case .chunked:
                    break
                }
                head = nil
            case .error:
                errored = true
            }
        }
    }

    /// A head the parser accepted, against a strict reading of its own bytes.
    private static func checkHead(_ head: ClientRequestSummary.Head, limit: Int, _ context: String) throws(FuzzFailure) {
        let target = FuzzTarget.clientRequest
        let shown = "head \(Self.quoted(head.bytes[...])); \(context)"
        try FuzzFailure.check(head.bytes.count <= limit, target, "a head of \(head.bytes.count) bytes over the limit of \(limit): \(shown)")
        let reference: ReferenceHead
        switch Self.referenceHead(head.bytes[...]) {
        case .valid(let valid): reference = valid
        case .invalid(let reason):
            throw FuzzFailure(target: target.rawValue, message: "a head accepted that a strict reading refuses (\(reason)): \(shown)")
        }
        try FuzzFailure.check(
            head.method.utf8.elementsEqual(reference.method) && head.target == reference.target && head.isHTTP10 == reference.isHTTP10,
            target,
            "method \(head.method), target \(Self.quoted(head.target[...])), HTTP/1.0 \(head.isHTTP10); expected "
                + "\(Self.quoted(reference.method[...])), \(Self.quoted(reference.target[...])), \(reference.isHTTP10): \(shown)"
        )
        try FuzzFailure.check(head.framing == reference.framing, target, "framing \(head.framing), expected \(reference.framing): \(shown)")
        try FuzzFailure.check(
            head.keepAlive == reference.keepAlive, target, "keep-alive \(head.keepAlive), expected \(reference.keepAlive): \(shown)")
        try FuzzFailure.check(
            head.hostCount == reference.hostCount && head.expectsContinue == reference.expectsContinue, target,
            "\(head.hostCount) Host, 100-continue \(head.expectsContinue); "
                + "expected \(reference.hostCount), \(reference.expectsContinue): \(shown)"
        )

        // The forwarded lines on their own: whole CRLF lines, none that must not reach the app.
        var start = 0
        var index = 0
        let forwarded = head.forwarded
        while index < forwarded.count {
            if forwarded[index] == 10 {
                let line = forwarded[start..<index]
                try FuzzFailure.check(
                    line.last == 13 && !line.dropLast().contains(13), target,
                    "a forwarded line with a bare CR or LF: \(Self.quoted(forwarded[start...index])): \(shown)")
                let content = line.dropLast()
                let colon = content.firstIndex(of: UInt8(ascii: ":")) ?? content.endIndex
                let name = Self.lowercased(content[..<colon])
                try FuzzFailure.check(
                    !Self.isNeverForwarded(name) && !name.contains(UInt8(ascii: "_")), target,
                    "a forwarded line that must not reach the app: \(Self.quoted(content)): \(shown)")
                start = index + 1
            }
            index += 1
        }
        try FuzzFailure.check(
            start == forwarded.count, target, "forwarded lines not ending in CRLF: \(Self.quoted(forwarded[...])): \(shown)")
        try FuzzFailure.check(
            forwarded == reference.forwarded, target,
            "forwarded \(Self.quoted(forwarded[...])), expected \(Self.quoted(reference.forwarded[...])): \(shown)")

        // The upstream head: the request line as HTTP/1.1, the Host fallback, the forwarded lines.
        var prefix = Array(head.method.utf8) + [UInt8(ascii: " ")] + head.target + Array(" HTTP/1.1\r\n".utf8)
        if head.hostCount == 0 {
            prefix += Array("host: \(Self.clientRequestLocalHost)\r\n".utf8)
        }
        prefix += forwarded
        try FuzzFailure.check(
            head.upstream.starts(with: prefix) && head.upstream.count >= prefix.count + 4
                && head.upstream.suffix(4).elementsEqual([13, 10, 13, 10]), target,
            "upstream head \(Self.quoted(head.upstream[...])) does not start with \(Self.quoted(prefix[...])) "
                + "or end in a blank line: \(shown)"
        )
    }

    // MARK: Against the input (fed whole)

    private static func checkAgainstInput(
        _ summary: ClientRequestSummary, _ input: [UInt8], limit: Int, _ context: String
    ) throws(FuzzFailure) {
        let target = FuzzTarget.clientRequest
        let described = "events \(Self.describe(summary.events)); \(context)"
        let events = summary.events
        var position = 0
        var index = 0
        func skipEmptyLines() {
            while position + 1 < input.count, input[position] == 13, input[position + 1] == 10 { position += 2 }
        }
        while index < events.count {
            skipEmptyLines()
            let head: ClientRequestSummary.Head
            switch events[index] {
            case .head(let found):
                head = found
            case .error(let name):
                // Refused at a head: a strict reading refuses it too (or it is over the limit).
                let rest = input[position...]
                if let end = Self.headEnd(rest), end - rest.startIndex <= limit,
                    case .valid = Self.referenceHead(rest[..<end])
                {
                    let length = end - rest.startIndex
                    throw FuzzFailure(
                        target: target.rawValue, message: "a valid head of \(length) bytes refused with \(name): \(described)")
                }
                return
            default:
                throw FuzzFailure(
                    target: target.rawValue, message: "\(events[index]) where a head was due at byte \(position): \(described)")
            }
            try FuzzFailure.check(
                input[position...].starts(with: head.bytes), target, "a head that is not the bytes at \(position): \(described)")
            position += head.bytes.count
            index += 1
            var body: [UInt8] = []
            var ended = false
            var error: String?
            while index < events.count, !ended, error == nil {
                switch events[index] {
                case .body(let slice): body += slice
                case .end: ended = true
                case .error(let name): error = name
                case .head: throw FuzzFailure(target: target.rawValue, message: "a head inside a request: \(described)")
                }
                index += 1
            }
            let rest = input[position...]
            switch head.framing {
            case .none:
                try FuzzFailure.check(ended && body.isEmpty, target, "a request without a body did not end at once: \(described)")
            case .length(let length):
                if ended {
                    try FuzzFailure.check(
                        rest.count >= length && body.elementsEqual(rest.prefix(length)), target,
                        "the body is not the \(length) bytes after the head: \(described)")
                    position += length
                } else {
                    try FuzzFailure.check(
                        error == nil && rest.count < length && body.elementsEqual(rest), target,
                        "an unfinished body that is not everything after the head: \(described)")
                    return
                }
            case .chunked:
                let reading = Self.dechunkStrictly(rest)
                switch reading {
                case .complete(let decoded, let consumed):
                    try FuzzFailure.check(
                        ended && body == decoded, target,
                        "a strict de-chunker reads \(Self.quoted(decoded[...])) through byte \(position + consumed): \(described)")
                    position += consumed
                case .invalid(let at, let reason):
                    try FuzzFailure.check(
                        !ended && error != nil, target,
                        "a chunked body accepted that a strict de-chunker refuses at byte \(position + at) (\(reason)): \(described)")
                    return
                case .incomplete:
                    try FuzzFailure.check(
                        !ended && error == nil, target,
                        "a chunked body ended or refused that a strict de-chunker reads as unfinished: \(described)")
                    return
                case .unknown:
                    return
                }
            }
        }
        // Everything was read: what is left is no complete head.
        skipEmptyLines()
        let rest = input[position...]
        try FuzzFailure.check(
            summary.leftover == rest.count && Self.headEnd(rest) == nil, target,
            "\(summary.leftover) bytes left over, expected \(Self.quoted(rest)) (no complete head): \(described)")
    }

    // MARK: The upstream request, read back

    private static func checkUpstream(_ summary: ClientRequestSummary, parse: ClientRequestParse, _ context: String) throws(FuzzFailure) {
        let target = FuzzTarget.clientRequest
        var index = 0
        let events = summary.events
        while index < events.count {
            guard case .head(let head) = events[index] else { return }
            index += 1
            var slices: [[UInt8]] = []
            var ended = false
            while index < events.count, !ended {
                switch events[index] {
                case .body(let slice): slices.append(slice)
                case .end: ended = true
                case .head, .error: return
                }
                index += 1
            }
            // A request that never ended is aborted upstream, never completed.
            guard ended else { return }
            var request = head.upstream
            let body = slices.flatMap { $0 }
            switch head.framing {
            case .none:
                break
            case .length:
                request += body
            case .chunked:
                for slice in slices {
                    request += Array(String(slice.count, radix: 16).utf8) + [13, 10] + slice + [13, 10]
                }
                request += Array("0\r\n\r\n".utf8)
            }
            let again = parse([request], Self.upstreamHeadLimit, false)
            let shown =
                "upstream request \(Self.quoted(request[...])) read back as \(Self.describe(again.events)), "
                + "\(again.leftover) bytes left; \(context)"
            guard case .head(let upstream)? = again.events.first, case .end? = again.events.last else {
                throw FuzzFailure(target: target.rawValue, message: "not one complete request: \(shown)")
            }
            let middle = again.events.dropFirst().dropLast()
            var readBack: [UInt8] = []
            for event in middle {
                guard case .body(let slice) = event else {
                    throw FuzzFailure(target: target.rawValue, message: "not one request: \(shown)")
                }
                readBack += slice
            }
            try FuzzFailure.check(again.leftover == 0, target, "bytes left after the request: \(shown)")
            try FuzzFailure.check(
                upstream.method == head.method && upstream.target == head.target, target,
                "method \(upstream.method), target \(Self.quoted(upstream.target[...])) sent for "
                    + "\(head.method) \(Self.quoted(head.target[...])): \(shown)"
            )
            let framingKept: Bool
            switch (head.framing, upstream.framing) {
            case (.none, .none), (.none, .length(0)): framingKept = true
            default: framingKept = head.framing == upstream.framing
            }
            try FuzzFailure.check(framingKept, target, "framing \(upstream.framing) sent for \(head.framing): \(shown)")
            try FuzzFailure.check(
                readBack == body, target, "body \(Self.quoted(readBack[...])) sent for \(Self.quoted(body[...])): \(shown)")
            let fallback = head.hostCount == 0 ? Array("host: \(Self.clientRequestLocalHost)\r\n".utf8) : []
            try FuzzFailure.check(
                upstream.forwarded == fallback + head.forwarded, target,
                "the app reads lines \(Self.quoted(upstream.forwarded[...])), "
                    + "expected \(Self.quoted((fallback + head.forwarded)[...])): \(shown)"
            )
        }
    }

    // MARK: A strict reading of RFC 9112

    struct ReferenceHead {
        var method: [UInt8]
        var target: [UInt8]
        var isHTTP10: Bool
        var framing: ClientRequestSummary.Framing
        var keepAlive: Bool
        var hostCount: Int
        var expectsContinue: Bool
        var forwarded: [UInt8]
    }

    enum ReferenceOutcome {
        case valid(ReferenceHead)
        case invalid(String)
    }

    /// Reads a complete head (request line through the blank line) the way
    /// RFC 9112 and SPEC §4 describe a valid one, independently of HTTPProxy.
    static func referenceHead(_ bytes: ArraySlice<UInt8>) -> ReferenceOutcome {
        // Lines: every one ends in CRLF, no other CR or LF; the last is the only empty one.
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 13 {
                guard index + 1 < bytes.endIndex, bytes[index + 1] == 10 else { return .invalid("a CR without LF") }
                lines.append(bytes[start..<index])
                index += 2
                start = index
                continue
            }
            if byte == 10 { return .invalid("an LF without CR") }
            index += 1
        }
        guard start == bytes.endIndex, lines.count >= 2, let last = lines.last, last.isEmpty else {
            return .invalid("no blank line at the end")
        }
        guard !lines.dropLast().contains(where: { $0.isEmpty }) else { return .invalid("a blank line inside") }

        // Request line: token SP visible-ASCII SP HTTP/1.0 or HTTP/1.1.
        let requestLine = lines[0]
        let methodEnd = requestLine.firstIndex { !Self.isTokenByte($0) } ?? requestLine.endIndex
        guard methodEnd > requestLine.startIndex, methodEnd < requestLine.endIndex, requestLine[methodEnd] == 32 else {
            return .invalid("no method")
        }
        let targetStart = methodEnd + 1
        let targetEnd = requestLine[targetStart...].firstIndex { $0 <= 0x20 || $0 >= 0x7F } ?? requestLine.endIndex
        guard targetEnd > targetStart, targetEnd < requestLine.endIndex, requestLine[targetEnd] == 32 else { return .invalid("no target") }
        let version = requestLine[(targetEnd + 1)...]
        let isHTTP10 = version.elementsEqual("HTTP/1.0".utf8)
        guard isHTTP10 || version.elementsEqual("HTTP/1.1".utf8) else { return .invalid("not HTTP/1.0 or 1.1") }
        let method = Array(requestLine[..<methodEnd])
        guard !method.elementsEqual("CONNECT".utf8) else { return .invalid("CONNECT") }

        // Header lines: token, colon, field value.
        var fields: [(name: [UInt8], value: ArraySlice<UInt8>, line: ArraySlice<UInt8>)] = []
        for line in lines.dropFirst().dropLast() {
            let colon = line.firstIndex { !Self.isTokenByte($0) } ?? line.endIndex
            guard colon > line.startIndex, colon < line.endIndex, line[colon] == UInt8(ascii: ":") else {
                return .invalid("a header line that is not a token and a colon: \(Self.quoted(line))")
            }
            let value = line[(colon + 1)...]
            guard value.allSatisfy({ $0 == 9 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                return .invalid("a value byte that is no field-value byte")
            }
            // The line with its CRLF (the bytes after it in `bytes`).
            fields.append((Self.lowercased(line[..<colon]), Self.trimmed(value), bytes[line.startIndex..<(line.endIndex + 2)]))
        }
        func named(_ name: String) -> [(name: [UInt8], value: ArraySlice<UInt8>, line: ArraySlice<UInt8>)] {
            fields.filter { $0.name.elementsEqual(name.utf8) }
        }

        // Framing (RFC 9112 §6.1, §6.3): one Content-Length value, or chunked alone on HTTP/1.1.
        let lengths = named("content-length").map { Self.decimal($0.value) }
        let encodings = named("transfer-encoding")
        let framing: ClientRequestSummary.Framing
        if let first = lengths.first {
            guard let length = first, lengths.allSatisfy({ $0 == length }) else { return .invalid("Content-Length values \(lengths)") }
            framing = .length(length)
        } else {
            framing = .none
        }
        var chunked = false
        if !encodings.isEmpty {
            guard encodings.count == 1, Self.lowercased(encodings[0].value).elementsEqual("chunked".utf8), lengths.isEmpty, !isHTTP10 else {
                return .invalid("Transfer-Encoding other than chunked alone on HTTP/1.1")
            }
            chunked = true
        }
        let hostCount = named("host").count
        guard hostCount <= 1 && (isHTTP10 || hostCount == 1) else {
            return .invalid("\(hostCount) Host headers on HTTP/1.\(isHTTP10 ? 0 : 1)")
        }

        // Connection: close, keep-alive and the names it lists (Host stays).
        var listed: [[UInt8]] = []
        var close = false
        var keepAliveToken = false
        for field in named("connection") {
            for element in field.value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let token = Self.lowercased(Self.trimmed(element))
                guard !token.isEmpty else { continue }
                if token.elementsEqual("close".utf8) { close = true }
                if token.elementsEqual("keep-alive".utf8) { keepAliveToken = true }
                // Every listed name goes (RFC 9110 §7.6.1), `close` too, but Host, which HTTP/1.1 requires.
                if !token.elementsEqual("host".utf8) { listed.append(token) }
            }
        }
        // An HTTP/1.0 client's expectation is ignored (RFC 9110 §10.1.1); the line goes either way.
        let expectsContinue = !isHTTP10 && named("expect").contains { Self.lowercased($0.value).elementsEqual("100-continue".utf8) }
        let replaced = ["content-length", "transfer-encoding", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip"]
        var forwarded: [UInt8] = []
        for field in fields {
            let isContinue = field.name.elementsEqual("expect".utf8) && Self.lowercased(field.value).elementsEqual("100-continue".utf8)
            let dropped =
                Self.isNeverForwarded(field.name) || replaced.contains { field.name.elementsEqual($0.utf8) }
                || field.name.contains(UInt8(ascii: "_")) || isContinue || listed.contains(field.name)
            if !dropped { forwarded += field.line }
        }
        return .valid(
            ReferenceHead(
                method: method, target: Array(requestLine[targetStart..<targetEnd]), isHTTP10: isHTTP10,
                framing: chunked ? .chunked : framing, keepAlive: isHTTP10 ? keepAliveToken && !close : !close, hostCount: hostCount,
                expectsContinue: expectsContinue, forwarded: forwarded))
    }

    /// Where the head at the start of `bytes` ends (after its first CRLF CRLF), if it does.
    static func headEnd(_ bytes: ArraySlice<UInt8>) -> Int? {
        var index = bytes.startIndex
        while index + 3 < bytes.endIndex {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index + 4 }
            index += 1
        }
        return nil
    }

    enum ChunkedReading {
        /// The data, and the bytes read through the blank line after the trailers.
        case complete([UInt8], consumed: Int)
        case invalid(at: Int, String)
        case incomplete
        /// Trailers past what the reading follows (64 KiB): not judged.
        case unknown
    }

    /// Chunked framing read strictly (RFC 9112 §7.1, with the limits
    /// `ChunkedBodyDecoder` documents): 1-15 hex digits, then the line's CRLF
    /// or an extension (`;` after optional spaces and tabs, then at most 4095
    /// bytes of HTAB, SP, VCHAR and obs-text); the data and CRLF; after the
    /// last chunk, trailer lines without CR or LF, each ending in CRLF, then
    /// an empty line.
    static func dechunkStrictly(_ bytes: ArraySlice<UInt8>) -> ChunkedReading {
        var body: [UInt8] = []
        var index = bytes.startIndex
        func offset() -> Int { index - bytes.startIndex }
        /// CRLF at `index`: true when read, nil when the bytes end first.
        func lineEnd() -> Bool? {
            guard index < bytes.endIndex else { return nil }
            guard bytes[index] == 13 else { return false }
            guard index + 1 < bytes.endIndex else { return nil }
            guard bytes[index + 1] == 10 else { return false }
            index += 2
            return true
        }
        while true {
            // Size.
            var size = 0
            var digits = 0
            while index < bytes.endIndex, let digit = Self.hexValue(bytes[index]) {
                guard digits < 15 else { return .invalid(at: offset(), "a 16th size digit") }
                size = size << 4 | digit
                digits += 1
                index += 1
            }
            guard index < bytes.endIndex else { return .incomplete }
            guard digits > 0 else { return .invalid(at: offset(), "no size") }
            while index < bytes.endIndex, bytes[index] == 32 || bytes[index] == 9 { index += 1 }
            guard index < bytes.endIndex else { return .incomplete }
            if bytes[index] == UInt8(ascii: ";") {
                let extensionStart = index
                index += 1
                while index < bytes.endIndex, bytes[index] != 13 {
                    let byte = bytes[index]
                    guard byte == 9 || (byte >= 0x20 && byte != 0x7F) else {
                        return .invalid(at: offset(), "a control byte in an extension")
                    }
                    guard index - extensionStart < 4096 else { return .invalid(at: offset(), "an extension over 4 KiB") }
                    index += 1
                }
            } else if index > bytes.startIndex, bytes[index - 1] == 32 || bytes[index - 1] == 9 {
                return .invalid(at: offset(), "spaces after a size without an extension")
            }
            switch lineEnd() {
            case nil: return .incomplete
            case false?: return .invalid(at: offset(), "a size line not ending in CRLF")
            case true?: break
            }
            if size == 0 { break }
            guard bytes.endIndex - index >= size else { return .incomplete }
            body += bytes[index..<(index + size)]
            index += size
            switch lineEnd() {
            case nil: return .incomplete
            case false?: return .invalid(at: offset(), "chunk data not followed by CRLF")
            case true?: break
            }
        }
        // Trailer lines, then the empty line.
        let trailerStart = index
        while true {
            guard index - trailerStart < 60 * 1024 else { return .unknown }
            guard index < bytes.endIndex else { return .incomplete }
            if bytes[index] == 13 {
                switch lineEnd() {
                case nil: return .incomplete
                case false?: return .invalid(at: offset(), "a CR without LF after the trailers")
                case true?: return .complete(body, consumed: offset())
                }
            }
            while index < bytes.endIndex, bytes[index] != 13 {
                guard bytes[index] != 10 else { return .invalid(at: offset(), "an LF without CR in a trailer line") }
                let byte = bytes[index]
                guard byte == 9 || (byte >= 0x20 && byte != 0x7F) else {
                    return .invalid(at: offset(), "a control byte in a trailer line")
                }
                index += 1
            }
            switch lineEnd() {
            case nil: return .incomplete
            case false?: return .invalid(at: offset(), "a CR without LF in a trailer line")
            case true?: break
            }
        }
    }

    // MARK: Helpers

    /// Whether a (lower-cased) name never crosses the proxy: hop-by-hop, `Proxy-*`, `X-Switchyard-*`,
    /// and the framing and forwarding headers the proxy writes itself.
    private static func isNeverForwarded(_ name: [UInt8]) -> Bool {
        let names = [
            "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "content-length", "x-forwarded-for",
            "x-forwarded-proto", "x-forwarded-host", "x-real-ip",
        ]
        return names.contains { name.elementsEqual($0.utf8) } || name.starts(with: "proxy-".utf8) || name.starts(with: "x-switchyard-".utf8)
    }

    /// RFC 9110 tchar.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static func lowercased(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }

    /// Body slices joined (split invariance asks for the same bytes per request, not the same slices).
    /// Split invariance's comparison. The events must be the same, but for
    /// one thing: a partial head that can already never be valid is refused
    /// at once as `malformedRequest` (a 400, see `ClientRequestParser`), where
    /// the complete head may have been refused for another reason first (its
    /// size, its version, CONNECT). Both are refusals of the same head after
    /// the same requests, so a final error may differ when one is that one.
    static func sameOutcome(_ events: [ClientRequestSummary.Event], _ expected: [ClientRequestSummary.Event]) -> Bool {
        if events == expected { return true }
        guard events.count == expected.count, case .error(let left)? = events.last, case .error(let right)? = expected.last,
            left == "malformedRequest" || right == "malformedRequest"
        else { return false }
        return events.dropLast() == expected.dropLast()
    }

    static func normalized(_ events: [ClientRequestSummary.Event]) -> [ClientRequestSummary.Event] {
        var joined: [ClientRequestSummary.Event] = []
        for event in events {
            if case .body(let slice) = event, case .body(let previous)? = joined.last {
                joined[joined.count - 1] = .body(previous + slice)
            } else {
                joined.append(event)
            }
        }
        return joined
    }

    static func describe(_ events: [ClientRequestSummary.Event]) -> String {
        let parts = events.map { event -> String in
            switch event {
            case .head(let head):
                return "head \(head.method) \(Self.quoted(head.target[...])) \(head.framing) (\(head.bytes.count) bytes)"
            case .body(let slice): return "body \(Self.quoted(slice[...]))"
            case .end: return "end"
            case .error(let name): return "error \(name)"
            }
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
