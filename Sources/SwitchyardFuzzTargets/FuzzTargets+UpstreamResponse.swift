/// What HTTPProxy's `UpstreamResponseParser` made of the bytes an app server
/// sent, in the order it reported it. Built by the caller of
/// `FuzzTargets.upstreamResponse(_:parse:)`, `FuzzEntries.upstreamResponse` (the parser is `package` in
/// HTTPProxy, which this module does not depend on).
public struct UpstreamResponseSummary: Sendable, Equatable {
    /// `ResponseFraming`.
    public enum Framing: Sendable, Equatable {
        case empty
        case length(Int)
        case chunked
        case untilClose
    }

    /// `UpstreamResponseHead`.
    public struct Head: Sendable, Equatable {
        public var status: Int
        /// The head as received: status line through the blank line.
        public var bytes: [UInt8]
        /// The bytes of `statusText` ("200 OK"): what the proxy writes after its own `HTTP/1.1 `.
        public var statusText: [UInt8]
        /// `forwardedLines`.
        public var forwardedLines: [String]
        /// The forwarded header lines as the proxy writes them to the client:
        /// each run's bytes, a CRLF after a run that has `appendLineEnd`.
        public var wire: [UInt8]
        public var framing: Framing
        public var keepAlive: Bool
        public var pinDirective: String?
        public var lsnText: String?

        public init(
            status: Int, bytes: [UInt8], statusText: [UInt8], forwardedLines: [String], wire: [UInt8], framing: Framing,
            keepAlive: Bool, pinDirective: String?, lsnText: String?
        ) {
            self.status = status
            self.bytes = bytes
            self.statusText = statusText
            self.forwardedLines = forwardedLines
            self.wire = wire
            self.framing = framing
            self.keepAlive = keepAlive
            self.pinDirective = pinDirective
            self.lsnText = lsnText
        }
    }

    public enum Event: Sendable, Equatable {
        case head(Head)
        /// One body slice, as emitted.
        case body([UInt8])
        case end(reusable: Bool)
        /// `feed` or `endOfInput` threw (the caller stops there, as the proxy
        /// closes the connection): the error's case name, `String(describing:)`.
        case error(String)
    }

    public var events: [Event]

    public init(events: [Event] = []) {
        self.events = events
    }
}

extension FuzzTargets {
    /// Drives a fresh `UpstreamResponseParser` armed for one response
    /// (`expectResponse(toHEAD: isHEAD)`): feeds each piece in turn, then
    /// `endOfInput` when `closeAtEnd`, stopping at the first error.
    public typealias UpstreamResponseParse = (_ pieces: [[UInt8]], _ isHEAD: Bool, _ closeAtEnd: Bool) -> UpstreamResponseSummary

    /// What an app server sends back on an upstream connection, through
    /// HTTPProxy's `UpstreamResponseParser` (passed in as `parse`, see
    /// `UpstreamResponseParse`). The first byte holds flags (bit 0: the
    /// request was a HEAD; bit 1: the app closes the connection after the
    /// bytes), the second where to cut the rest in two (`byte × count / 255`);
    /// the rest is the response.
    ///
    /// Invariants: the bytes fed whole, cut in two and one at a time give the
    /// same events (body slices joined; bytes after a complete response show
    /// as a non-reusable end when they arrive with it, as an `unexpectedData`
    /// error after a reusable end when they come later); at most one head and
    /// one end, nothing before the head but an error, no empty body slice,
    /// nothing after an error; an ended `.length(n)` body is n bytes, an
    /// empty one none; a reusable end only when the head keeps alive. The
    /// head (checked against its own bytes, RFC 9110 §7.6.1, RFC 9112 §6.3):
    /// the forwarded lines are exactly its header lines less `Connection`,
    /// `Keep-Alive`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`,
    /// `Proxy-*`, `X-Switchyard-*`, every name a `Connection` header lists
    /// but `Content-Length` (the body's framing stays), and `Content-Length`
    /// of a 204 or 304, in order, each without CR or LF
    /// and ending in CRLF on the wire; the status text has no CR or LF;
    /// framing and keep-alive are as the head says; a `.length(n)` head still
    /// tells the client its length (a forwarded `Content-Length` of n, and no
    /// other), a chunked or until-close one forwards none. When the response
    /// starts the bytes: the body is the length's bytes, everything until
    /// close, or what a plain de-chunker reads, and an end is reusable exactly
    /// when it keeps alive and nothing followed.
    public static func upstreamResponse(_ bytes: UnsafeRawBufferPointer, parse: UpstreamResponseParse) throws(FuzzFailure) {
        let target = FuzzTarget.upstreamResponse
        var reader = ByteReader(bytes)
        let flags = reader.byte()
        let cut = reader.byte()
        let input = Array(bytes.dropFirst(2))
        let isHEAD = flags & 1 == 1
        let closeAtEnd = flags & 2 == 2
        let splitAt = Int(cut) * input.count / 255

        let whole = parse([input], isHEAD, closeAtEnd)
        let split = parse([Array(input[..<splitAt]), Array(input[splitAt...])], isHEAD, closeAtEnd)
        let byteByByte = parse(input.map { [$0] }, isHEAD, closeAtEnd)
        let context = "HEAD \(isHEAD), close \(closeAtEnd), input \(Self.quoted(input[...]))"
        for (name, summary) in [("whole", whole), ("cut at \(splitAt)", split), ("byte by byte", byteByByte)] {
            try Self.checkEvents(summary, isHEAD: isHEAD, closeAtEnd: closeAtEnd, "fed \(name), \(context)")
        }
        try Self.checkAgainstInput(whole, input, closeAtEnd: closeAtEnd, "fed whole, \(context)")

        let expected = Self.normalized(whole)
        for (name, summary) in [("cut at \(splitAt)", split), ("byte by byte", byteByByte)] {
            let events = Self.normalized(summary)
            try FuzzFailure.check(
                events == expected, target,
                "fed \(name): \(Self.describe(events)); fed whole: \(Self.describe(expected)); \(context)")
        }
    }

    // MARK: Every way of feeding

    private static func checkEvents(_ summary: UpstreamResponseSummary, isHEAD: Bool, closeAtEnd: Bool, _ context: String) throws(FuzzFailure) {
        let target = FuzzTarget.upstreamResponse
        var head: UpstreamResponseSummary.Head?
        var ended = false
        var errored = false
        var bodyCount = 0
        for event in summary.events {
            try FuzzFailure.check(!errored, target, "\(event) after an error: \(Self.describe(summary.events)); \(context)")
            switch event {
            case .head(let found):
                try FuzzFailure.check(head == nil, target, "a second head: \(Self.describe(summary.events)); \(context)")
                try FuzzFailure.check(!ended, target, "a head after the end: \(Self.describe(summary.events)); \(context)")
                head = found
                try Self.checkHead(found, isHEAD: isHEAD, context)
            case .body(let slice):
                guard let head else {
                    throw FuzzFailure(target: target.rawValue, message: "body bytes before a head: \(Self.describe(summary.events)); \(context)")
                }
                try FuzzFailure.check(!ended, target, "body bytes after the end: \(Self.describe(summary.events)); \(context)")
                // An empty slice would be relayed as an empty chunk: the chunked terminator.
                try FuzzFailure.check(!slice.isEmpty, target, "an empty body slice: \(Self.describe(summary.events)); \(context)")
                bodyCount += slice.count
                switch head.framing {
                case .empty:
                    throw FuzzFailure(target: target.rawValue, message: "body bytes for a response without a body; \(context)")
                case .length(let length):
                    try FuzzFailure.check(bodyCount <= length, target, "\(bodyCount) body bytes for Content-Length \(length); \(context)")
                case .chunked, .untilClose:
                    break
                }
            case .end(let reusable):
                guard let head else {
                    throw FuzzFailure(target: target.rawValue, message: "an end before a head: \(Self.describe(summary.events)); \(context)")
                }
                try FuzzFailure.check(!ended, target, "a second end: \(Self.describe(summary.events)); \(context)")
                ended = true
                try FuzzFailure.check(!reusable || head.keepAlive, target, "a reusable end of a response that does not keep alive; \(context)")
                switch head.framing {
                case .empty:
                    try FuzzFailure.check(bodyCount == 0, target, "\(bodyCount) body bytes for a response without a body; \(context)")
                case .length(let length):
                    try FuzzFailure.check(bodyCount == length, target, "ended after \(bodyCount) body bytes of Content-Length \(length); \(context)")
                case .untilClose:
                    try FuzzFailure.check(closeAtEnd && !reusable, target, "a body until close ended without a close, or reusable; \(context)")
                case .chunked:
                    break
                }
            case .error(let name):
                errored = true
                // After a complete response only bytes nobody asked for can go wrong.
                try FuzzFailure.check(!ended || name == "unexpectedData", target, "\(name) after the end; \(context)")
            }
        }
    }

    /// Whether a name never crosses the proxy: hop-by-hop, `Proxy-*`, `X-Switchyard-*`.
    private static func isHopByHop(_ lowercasedName: [UInt8]) -> Bool {
        let names: [String] = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]
        return names.contains { lowercasedName.elementsEqual($0.utf8) }
            || lowercasedName.starts(with: "proxy-".utf8) || lowercasedName.starts(with: "x-switchyard-".utf8)
    }

    private static func checkHead(_ head: UpstreamResponseSummary.Head, isHEAD: Bool, _ context: String) throws(FuzzFailure) {
        let target = FuzzTarget.upstreamResponse
        let lines = Self.lines(head.bytes)
        guard let statusLine = lines.first, statusLine.count >= 12 else {
            throw FuzzFailure(target: target.rawValue, message: "a head without a status line: \(Self.quoted(head.bytes[...])); \(context)")
        }
        // The status line: HTTP/1.x SP 3DIGIT [SP reason].
        try FuzzFailure.check(
            head.status >= 200 && head.status <= 999 && statusLine.starts(with: "HTTP/1.".utf8), target,
            "a final head with status \(head.status), status line \(Self.quoted(statusLine)); \(context)")
        try FuzzFailure.check(
            head.statusText.elementsEqual(statusLine.dropFirst(9)) && head.statusText.starts(with: String(head.status).utf8), target,
            "status text \(Self.quoted(head.statusText[...])) for status line \(Self.quoted(statusLine)); \(context)")
        try FuzzFailure.check(
            !head.statusText.contains(13) && !head.statusText.contains(10), target,
            "status text with CR or LF: \(Self.quoted(head.statusText[...])); \(context)")

        // The header lines, read back from the head's own bytes.
        var fields: [(name: [UInt8], line: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = []
        for line in lines.dropFirst() {
            guard !line.isEmpty else { break }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw FuzzFailure(target: target.rawValue, message: "a header line without a colon accepted: \(Self.quoted(line)); \(context)")
            }
            let name = line[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            fields.append((name, line, Self.trimmed(line[(colon + 1)...])))
        }
        var listed: [[UInt8]] = []
        var close = false
        var keepAliveToken = false
        for field in fields where field.name.elementsEqual("connection".utf8) {
            for element in field.value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let token = Self.trimmed(element).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
                guard !token.isEmpty else { continue }
                listed.append(token)
                if token.elementsEqual("close".utf8) { close = true }
                if token.elementsEqual("keep-alive".utf8) { keepAliveToken = true }
            }
        }
        let noBodyStatus = head.status == 204 || head.status == 304
        // A Content-Length named in Connection stays (the client needs the body's length).
        let expected = fields.filter { field in
            let isLength = field.name.elementsEqual("content-length".utf8)
            return !(Self.isHopByHop(field.name) || (listed.contains(field.name) && !isLength) || (noBodyStatus && isLength))
        }

        // What reaches the client: CRLF-terminated lines, none with a CR or LF inside.
        var wireLines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        let wire = head.wire
        while index + 1 < wire.count {
            if wire[index] == 13 && wire[index + 1] == 10 {
                wireLines.append(wire[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        try FuzzFailure.check(start == wire.count, target, "forwarded lines not ending in CRLF: \(Self.quoted(wire[...])); \(context)")
        for line in wireLines {
            try FuzzFailure.check(
                !line.contains(13) && !line.contains(10), target, "a forwarded line with CR or LF: \(Self.quoted(line)); \(context)")
            let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
            let name = line[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            try FuzzFailure.check(!Self.isHopByHop(name), target, "a forwarded line that must not cross a proxy: \(Self.quoted(line)); \(context)")
        }
        try FuzzFailure.check(
            wireLines.count == expected.count && zip(wireLines, expected).allSatisfy { $0.elementsEqual($1.line) }, target,
            "forwarded [\(Self.list(wireLines))], expected [\(Self.list(expected.map(\.line)))] (Connection lists [\(Self.list(listed.map { $0[...] }))]); \(context)"
        )
        try FuzzFailure.check(
            head.forwardedLines == wireLines.map { String(decoding: $0, as: UTF8.self) }, target,
            "forwardedLines \(head.forwardedLines) differ from what is written, [\(Self.list(wireLines))]; \(context)")

        // Framing (RFC 9112 §6.3), and what the client is told of it.
        let chunked = fields.contains { $0.name.elementsEqual("transfer-encoding".utf8) }
        let lengths = fields.filter { $0.name.elementsEqual("content-length".utf8) }.map { Self.decimal($0.value) }
        let expectedFraming: UpstreamResponseSummary.Framing
        if isHEAD || noBodyStatus {
            expectedFraming = .empty
        } else if chunked {
            expectedFraming = .chunked
        } else if let first = lengths.first {
            guard let length = first, lengths.allSatisfy({ $0 == length }) else {
                throw FuzzFailure(target: target.rawValue, message: "Content-Length values \(lengths) accepted; \(context)")
            }
            expectedFraming = .length(length)
        } else {
            expectedFraming = .untilClose
        }
        try FuzzFailure.check(head.framing == expectedFraming, target, "framing \(head.framing), expected \(expectedFraming); \(context)")
        let minor = statusLine[statusLine.startIndex + 7]
        let keepAlive = (minor == UInt8(ascii: "1") ? !close : keepAliveToken && !close) && expectedFraming != .untilClose
        try FuzzFailure.check(head.keepAlive == keepAlive, target, "keep-alive \(head.keepAlive), expected \(keepAlive); \(context)")
        let forwardedLengths = expected.filter { $0.name.elementsEqual("content-length".utf8) }.map { Self.decimal($0.value) }
        switch head.framing {
        case .length(let length):
            try FuzzFailure.check(
                !forwardedLengths.isEmpty && forwardedLengths.allSatisfy { $0 == length }, target,
                "a body of Content-Length \(length) forwarded with Content-Length \(forwardedLengths): the client cannot tell where it ends; \(context)"
            )
        case .chunked, .untilClose:
            try FuzzFailure.check(
                forwardedLengths.isEmpty, target, "a \(head.framing) body forwarded with Content-Length \(forwardedLengths); \(context)")
        case .empty:
            break
        }
    }

    // MARK: Against the input (fed whole)

    private static func checkAgainstInput(
        _ summary: UpstreamResponseSummary, _ input: [UInt8], closeAtEnd: Bool, _ context: String
    ) throws(FuzzFailure) {
        let target = FuzzTarget.upstreamResponse
        // Only when the response starts the bytes (no interim 1xx before it).
        guard case .head(let head)? = summary.events.first, input.starts(with: head.bytes) else { return }
        let rest = input[head.bytes.count...]
        var body: [UInt8] = []
        var end: Bool?
        var error: String?
        for event in summary.events {
            switch event {
            case .body(let slice): body += slice
            case .end(let reusable): end = reusable
            case .error(let name): error = name
            case .head: break
            }
        }
        let described = "events \(Self.describe(summary.events)); \(context)"
        switch head.framing {
        case .empty:
            try FuzzFailure.check(end == (head.keepAlive && rest.isEmpty) && error == nil, target, "expected an end; \(described)")
        case .length(let length):
            try FuzzFailure.check(body.elementsEqual(rest.prefix(length)), target, "the body is not the \(length) bytes after the head; \(described)")
            if rest.count >= length {
                try FuzzFailure.check(end == (head.keepAlive && rest.count == length) && error == nil, target, "expected an end; \(described)")
            } else {
                try FuzzFailure.check(end == nil && error == (closeAtEnd ? "truncated" : nil), target, "expected no end; \(described)")
            }
        case .untilClose:
            try FuzzFailure.check(body.elementsEqual(rest), target, "the body is not everything after the head; \(described)")
            try FuzzFailure.check(end == (closeAtEnd ? false : nil) && error == nil, target, "expected an end exactly at close; \(described)")
        case .chunked:
            guard let end else { return }
            guard let dechunked = Self.dechunk(rest) else {
                throw FuzzFailure(target: target.rawValue, message: "a chunked body ended that a plain de-chunker cannot read; \(described)")
            }
            let (decoded, consumed) = dechunked
            try FuzzFailure.check(body == decoded, target, "the body is not the chunks' data \(Self.quoted(decoded[...])); \(described)")
            try FuzzFailure.check(
                end == (head.keepAlive && consumed == rest.count), target,
                "reusable \(end) with \(rest.count - consumed) bytes after the last chunk; \(described)")
        }
    }

    /// Chunked framing read leniently (RFC 9112 §7.1): a hex size, anything
    /// up to the LF, the data, an optional CR and an LF; after the last chunk,
    /// lines up to an empty one. Returns the data and the bytes read through
    /// that empty line, or nil if it never comes.
    static func dechunk(_ bytes: ArraySlice<UInt8>) -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var index = bytes.startIndex
        while true {
            guard let lineEnd = bytes[index...].firstIndex(of: 10) else { return nil }
            var size = 0
            var digits = 0
            while index < lineEnd, let digit = Self.hexValue(bytes[index]) {
                guard digits < 15 else { return nil }
                size = size << 4 | digit
                digits += 1
                index += 1
            }
            index = lineEnd + 1
            if size == 0 {
                while true {
                    guard let end = bytes[index...].firstIndex(of: 10) else { return nil }
                    let line = bytes[index..<end]
                    index = end + 1
                    if line.isEmpty || line.elementsEqual([13]) { return (body, index - bytes.startIndex) }
                }
            }
            guard bytes.endIndex - index >= size else { return nil }
            body += bytes[index..<(index + size)]
            index += size
            if index < bytes.endIndex, bytes[index] == 13 { index += 1 }
            guard index < bytes.endIndex, bytes[index] == 10 else { return nil }
            index += 1
        }
    }

    // MARK: Helpers

    /// Body slices joined; bytes after a complete response that came later
    /// (a reusable end, then `unexpectedData`) as if they had come with it
    /// (an end that is not reusable).
    static func normalized(_ summary: UpstreamResponseSummary) -> [UpstreamResponseSummary.Event] {
        var events: [UpstreamResponseSummary.Event] = []
        for event in summary.events {
            if case .body(let slice) = event, case .body(let previous)? = events.last {
                events[events.count - 1] = .body(previous + slice)
            } else {
                events.append(event)
            }
        }
        if events.count >= 2, case .error("unexpectedData")? = events.last, case .end = events[events.count - 2] {
            events.removeLast()
            events[events.count - 1] = .end(reusable: false)
        }
        return events
    }

    /// The head's lines, split at LF, one CR before it dropped.
    private static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 10 {
            var end = index
            if end > start, bytes[end - 1] == 13 { end -= 1 }
            lines.append(bytes[start..<end])
            start = index + 1
        }
        return lines
    }

    /// Bytes as a quoted string, bytes outside printable ASCII escaped.
    static func quoted(_ bytes: ArraySlice<UInt8>) -> String {
        var text = "\""
        for byte in bytes.prefix(2048) {
            switch byte {
            case 13: text += "\\r"
            case 10: text += "\\n"
            case 9: text += "\\t"
            case 0x22: text += "\\\""
            case 0x5C: text += "\\\\"
            case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16)
                text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return text + (bytes.count > 2048 ? "\"... (\(bytes.count) bytes)" : "\"")
    }

    private static func list(_ items: [ArraySlice<UInt8>]) -> String {
        items.map { Self.quoted($0) }.joined(separator: ", ")
    }

    static func describe(_ events: [UpstreamResponseSummary.Event]) -> String {
        let parts = events.map { event -> String in
            switch event {
            case .head(let head): return "head \(head.status) \(head.framing) keepAlive \(head.keepAlive)"
            case .body(let slice): return "body \(Self.quoted(slice[...]))"
            case .end(let reusable): return "end(reusable: \(reusable))"
            case .error(let name): return "error \(name)"
            }
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
