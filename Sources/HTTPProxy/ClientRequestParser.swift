import NIOCore
import NIOHTTP1
import SwitchyardCore

/// How a request's body is delimited (RFC 9112 §6.3: a request without
/// Content-Length or Transfer-Encoding has none).
package enum RequestFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// The methods the proxy treats apart, recognized once as the head is parsed
/// (methods are case-sensitive tokens: anything else is none of them).
/// Comparing the method `String` with a literal it is not took the string
/// comparison's slow path, several times a request.
package enum KnownMethod {
    case get, head, post, put, delete, patch, options

    /// The method as a `String`: a literal (nothing to validate or allocate).
    var text: String {
        switch self {
        case .get: return "GET"
        case .head: return "HEAD"
        case .post: return "POST"
        case .put: return "PUT"
        case .delete: return "DELETE"
        case .patch: return "PATCH"
        case .options: return "OPTIONS"
        }
    }

    /// Sent upstream with `content-length: 0` when the client sent no body
    /// (some app servers answer 411 to a POST without a length).
    var expectsBody: Bool {
        switch self {
        case .post, .put, .patch: return true
        case .get, .head, .delete, .options: return false
        }
    }

    /// Retried on another server after a failure (SPEC §4).
    var isIdempotent: Bool {
        switch self {
        case .get, .head, .options, .put, .delete: return true
        case .post, .patch: return false
        }
    }
}

/// A client's request head, kept as its bytes: the header lines the app
/// server sees are copied from them as they came (see `runs`), and a header's
/// value becomes a `String` only when something asks for it.
package struct ClientRequestHead {
    /// Request line through the blank line.
    package let bytes: ByteBuffer
    /// The method as sent (a case-sensitive token).
    package let method: String
    /// The request target as sent, offsets into `bytes`.
    package let target: Range<Int>
    package let isHTTP10: Bool
    package let framing: RequestFraming
    /// The client keeps the connection after this request (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    package let keepAlive: Bool
    /// Every header line; `keep` marks the ones forwarded to the app server.
    let lines: [HeadLines.Line]
    package let hostCount: Int
    /// The first `Host` value, offsets into `bytes` (the upstream head copies
    /// it from there: no `String` per request).
    let hostValue: Range<Int>?
    package let hasCookie: Bool
    /// `Expect: 100-continue` on HTTP/1.1 (answered by the proxy; the line is
    /// never forwarded, and HTTP/1.0's is ignored).
    package let expectsContinue: Bool
    /// Any of `X-Forwarded-For`, `-Proto`, `-Host` or `X-Real-IP`.
    package let hasForwarded: Bool
    /// The method, when it is one the proxy treats apart (beside the flags:
    /// a byte of its own between wider fields made the head larger to copy).
    package let knownMethod: KnownMethod?

    /// The forwarded lines as runs of consecutive lines (the request path
    /// walks them with `HeadLines.forEachRun`, without this array).
    package var runs: [HeadLines.Run] { HeadLines.runs(self.lines) }

    /// The first `Host` value as a `String` (for tests: the request path
    /// copies `hostValue`'s bytes).
    package var host: String? {
        self.hostValue.map { value in self.bytes.withUnsafeReadableBytes { HeadLines.string($0, value) } }
    }

    package var uri: String {
        self.bytes.withUnsafeReadableBytes { HeadLines.string($0, self.target) }
    }

    /// The target up to its query string.
    package var path: String {
        self.bytes.withUnsafeReadableBytes { bytes in
            let end = HeadLines.index(of: UInt8(ascii: "?"), in: UnsafeRawBufferPointer(rebasing: bytes[self.target]), from: 0)
            return HeadLines.string(bytes, self.target.lowerBound..<(end.map { self.target.lowerBound + $0 } ?? self.target.upperBound))
        }
    }

    /// The first value of header `name` (lower-case), any line.
    package func firstValue(_ name: String) -> String? {
        self.bytes.withUnsafeReadableBytes { bytes in
            for line in self.lines where HeaderHygiene.namesEqualIgnoringCase(bytes: bytes[line.name], name.utf8) {
                return HeadLines.string(bytes, line.value)
            }
            return nil
        }
    }

    /// Every value of header `name` (lower-case), in order.
    package func values(_ name: StaticString) -> [String] {
        self.bytes.withUnsafeReadableBytes { bytes in
            self.lines.filter { HeadLines.equalsIgnoringCase(bytes, $0.name, name) }.map { HeadLines.string(bytes, $0.value) }
        }
    }
}

extension ClientRequestHead {
    /// The request head the app server sees, encoded once per request (a
    /// retry re-sends it): the request line, the
    /// client's header lines as they came minus what the parser marked
    /// (hop-by-hop ones and the names `Connection` lists, underscore names,
    /// `Expect: 100-continue`, answered here, and incoming forwarding
    /// headers), then the forwarding headers and framing we set.
    ///
    /// The framing is always ours: the client's `Content-Length` lines are not
    /// copied, the validated length is written instead (so no header rule,
    /// e.g. a `Connection` that lists `Content-Length`, can leave a forwarded
    /// body without its length and let it pass for the next request).
    package func upstreamHead(forwarded: ForwardedHeaders, hostFallback: String? = nil, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: self.upstreamHeadCapacity)
        self.writeUpstreamHead(forwarded: forwarded, hostFallback: hostFallback, into: &buffer)
        return buffer
    }

    /// What `upstreamHead` usually needs (the buffer grows past it if not).
    package var upstreamHeadCapacity: Int { self.bytes.readableBytes + 192 }

    /// `upstreamHead`, written at the end of `buffer` (the proxy's is a recycled one).
    ///
    /// In two passes over the same pieces: one counts the bytes, the other
    /// copies them into the buffer's writable space in one
    /// `writeWithUnsafeMutableBytes`, instead of a dozen `ByteBuffer` writes
    /// that each check capacity and uniqueness.
    package func writeUpstreamHead(forwarded: ForwardedHeaders, hostFallback: String? = nil, into buffer: inout ByteBuffer) {
        var counter = HeadByteCounter()
        self.emitUpstreamHead(forwarded: forwarded, hostFallback: hostFallback, to: &counter)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: counter.count) { space in
            var writer = HeadByteWriter(space)
            self.emitUpstreamHead(forwarded: forwarded, hostFallback: hostFallback, to: &writer)
            return writer.count
        }
    }

    private func emitUpstreamHead(forwarded: ForwardedHeaders, hostFallback: String?, to output: inout some HeadByteOutput) {
        let head = self
        head.bytes.withUnsafeReadableBytes { bytes in
            // "METHOD target" as sent.
            output.put(UnsafeRawBufferPointer(rebasing: bytes[0..<head.target.upperBound]))
            output.literal(" HTTP/1.1\r\n")
            if let hostFallback {
                // An HTTP/1.0 request without Host goes upstream as HTTP/1.1, which
                // requires one: the address the client reached (nginx's $host falls
                // back to the server's name the same way).
                output.literal("host: ")
                output.put(hostFallback)
                output.literal("\r\n")
            }
            HeadLines.forEachRun(head.lines) { run in
                output.put(UnsafeRawBufferPointer(rebasing: bytes[run.start..<(run.start + run.length)]))
            }
        }
        output.literal("x-forwarded-for: ")
        output.put(forwarded.forwardedFor)
        output.literal("\r\nx-forwarded-proto: ")
        output.put(forwarded.forwardedProto)
        if let host = forwarded.forwardedHost {
            output.literal("\r\nx-forwarded-host: ")
            output.put(host)
        } else if let host = head.hostValue {
            // The request's own Host, as it came (the proxy computes
            // `forwarded` without it: no `String` is made of it).
            output.literal("\r\nx-forwarded-host: ")
            head.bytes.withUnsafeReadableBytes { output.put(UnsafeRawBufferPointer(rebasing: $0[host])) }
        }
        output.literal("\r\nx-real-ip: ")
        output.put(forwarded.realIP)
        output.literal("\r\n")
        switch head.framing {
        case .chunked:
            output.literal("transfer-encoding: chunked\r\n")
        case .length(let length):
            output.literal("content-length: ")
            output.put(String(length))
            output.literal("\r\n")
        case .none:
            if head.knownMethod?.expectsBody == true {
                // No body sent: say so (some app servers answer 411 to a POST without a length).
                output.literal("content-length: 0\r\n")
            }
        }
        output.literal("\r\n")
    }

}

/// Why a request could not be read: answered with `status` and the
/// connection closed.
package enum ClientRequestError: Error, Equatable {
    case malformedRequest
    case headTooLarge
    case unsupportedVersion
    case methodNotAllowed
    case ambiguousTransferEncoding
    case invalidContentLength
    case hostRequired
    /// Bad chunked framing inside a body (the head was valid).
    case malformedBody

    var status: HTTPResponseStatus {
        switch self {
        case .headTooLarge: return .requestHeaderFieldsTooLarge
        case .unsupportedVersion: return .httpVersionNotSupported
        case .methodNotAllowed: return .methodNotAllowed
        default: return .badRequest
        }
    }

    /// The plain-text answer.
    var body: String {
        switch self {
        case .malformedRequest: return "400 Bad Request: malformed request\n"
        case .headTooLarge: return "431 Request Header Fields Too Large\n"
        case .unsupportedVersion: return "505 HTTP Version Not Supported\n"
        case .methodNotAllowed: return "405 Method Not Allowed: CONNECT is not proxied\n"
        case .ambiguousTransferEncoding: return "400 Bad Request: unsupported or ambiguous Transfer-Encoding\n"
        case .invalidContentLength: return "400 Bad Request: invalid Content-Length\n"
        case .hostRequired: return "400 Bad Request: exactly one Host header is required\n"
        case .malformedBody: return "400 Bad Request: malformed request body\n"
        }
    }
}

/// Reads the client's side of a connection, strictly (RFC 9112), as bytes:
/// it replaces NIO's request decoder, and the request-smuggling checks are
/// part of the parse. Every line of a head ends in CRLF; a header name is a
/// token followed by its colon; no obs-fold; a body is framed by one
/// Content-Length (repeated only with the same value) or by
/// `Transfer-Encoding: chunked` alone (HTTP/1.1 only), never both.
///
/// Pull-based (so a struct: nothing it returns can call back into it): the
/// connection's handler appends what it reads and takes events with `next()`
/// while it can act on them. It stops taking them while
/// a response is due, so pipelined requests wait as unparsed bytes (their
/// errors too) until the ones before them are answered.
package struct ClientRequestParser {
    package enum Event {
        case head(ClientRequestHead)
        /// Body bytes, framing removed (slices of what was read, not copies).
        case body(ByteBuffer)
        case end
    }

    /// What the next bytes are. The state of a partial head and of a chunked
    /// body live in their cases: a connection keeps this value while idle, so
    /// nothing only one state needs is stored beside it.
    private enum State {
        /// `scanned`: how far a partial head has been searched for its end.
        case head(scanned: Int)
        case length(remaining: Int)
        case chunked(ChunkedBodyDecoder)
        /// The head had no body: `.end` is next.
        case endDue
        /// An error was returned: nothing more is read.
        case failed
    }

    /// `clients.max_header_bytes`: the whole head, request line to blank line.
    let maximumHeadBytes: Int
    private var state = State.head(scanned: 0)
    /// Bytes read and not parsed yet; nil when there are none (an empty slice
    /// would keep the channel's receive buffer from being reused).
    private var buffer: ByteBuffer?

    package init(maximumHeadBytes: Int) {
        self.maximumHeadBytes = maximumHeadBytes
    }

    /// Bytes waiting to be parsed.
    package var bufferedBytes: Int { self.buffer?.readableBytes ?? 0 }

    /// Part of a request head has arrived, not all of it.
    var hasPartialHead: Bool {
        if case .head(_) = self.state { return self.buffer != nil }
        return false
    }

    package mutating func append(_ bytes: consuming ByteBuffer) {
        if case .failed = self.state { return }  // nothing more is read: nothing is kept
        guard bytes.readableBytes > 0 else { return }
        if var buffer = self.buffer {
            self.buffer = nil  // unique, so the append does not copy what is there
            buffer.writeImmutableBuffer(bytes)
            self.buffer = buffer
        } else {
            self.buffer = bytes
        }
    }

    /// The next event the buffered bytes complete; nil when more bytes are needed.
    package mutating func next() throws(ClientRequestError) -> Event? {
        var lines: [HeadLines.Line] = []
        return try self.next(lineScratch: &lines)
    }

    /// `next()` with the header-line array a head is parsed into supplied by
    /// the caller: the proxy passes its event loop's, so a request allocates
    /// none (the head holding it is gone when the loop parses the next one).
    package mutating func next(lineScratch: inout [HeadLines.Line]) throws(ClientRequestError) -> Event? {
        if case .endDue = self.state {
            self.state = .head(scanned: 0)
            return .end
        }
        guard var buffer = self.buffer else { return nil }
        self.buffer = nil
        defer {
            if buffer.readableBytes > 0 { self.buffer = buffer }
        }
        switch self.state {
        case .head(let scanned):
            return try self.head(&buffer, scanned: scanned, lines: &lineScratch)
        case .length(let remaining):
            let count = min(remaining, buffer.readableBytes)
            guard let slice = buffer.readSlice(length: count) else { return nil }
            self.state = count == remaining ? .endDue : .length(remaining: remaining - count)
            return .body(slice)
        case .chunked(var decoder):
            do {
                let output = try decoder.next(&buffer)
                self.state = .chunked(decoder)
                switch output {
                case .data(let slice):
                    return .body(slice)
                case .end:
                    self.state = .head(scanned: 0)
                    return .end
                case nil:
                    return nil
                }
            } catch {
                return try self.fail(.malformedBody, &buffer)
            }
        case .endDue, .failed:
            return nil
        }
    }

    private mutating func fail(_ error: ClientRequestError, _ buffer: inout ByteBuffer) throws(ClientRequestError) -> Event? {
        self.state = .failed
        buffer.moveReaderIndex(to: buffer.writerIndex)
        throw error
    }

    private mutating func head(_ buffer: inout ByteBuffer, scanned: Int, lines: inout [HeadLines.Line]) throws(ClientRequestError) -> Event? {
        // Empty lines before a request line are ignored (RFC 9112 §2.2).
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
        }
        guard buffer.readableBytes > 1 || buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) != UInt8(ascii: "\r") else {
            return nil  // nothing, or the first half of an empty line
        }
        guard let length = buffer.withUnsafeReadableBytes({ Self.headLength($0, from: scanned) }) else {
            if buffer.readableBytes > self.maximumHeadBytes {
                return try self.fail(.headTooLarge, &buffer)
            }
            if buffer.withUnsafeReadableBytes({ Self.isHopeless($0) }) {
                return try self.fail(.malformedRequest, &buffer)
            }
            // The next read resumes the search where this one stopped (the
            // blank line may straddle the two): no rescan of what was seen.
            self.state = .head(scanned: max(0, buffer.readableBytes - 3))
            return nil
        }
        self.state = .head(scanned: 0)
        guard length <= self.maximumHeadBytes else {
            return try self.fail(.headTooLarge, &buffer)
        }
        guard let bytes = buffer.readSlice(length: length) else { return nil }
        let head: ClientRequestHead
        do {
            head = try Self.parseHead(bytes, lines: &lines)
        } catch {
            return try self.fail(error, &buffer)
        }
        switch head.framing {
        case .none, .length(0):
            self.state = .endDue
        case .length(let length):
            self.state = .length(remaining: length)
        case .chunked:
            self.state = .chunked(ChunkedBodyDecoder(acceptsBareLineFeed: false))
        }
        return .head(head)
    }

    /// The head's length through its blank line when `bytes` holds all of it,
    /// searching from `start` (at or before a line start).
    private static func headLength(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while let newline = HeadLines.index(of: UInt8(ascii: "\n"), in: bytes, from: index) {
            if newline + 2 < bytes.count, bytes[newline + 1] == UInt8(ascii: "\r"), bytes[newline + 2] == UInt8(ascii: "\n") {
                return newline + 3
            }
            index = newline + 1
        }
        return nil
    }

    /// A partial head that can already never be valid: a method byte that is
    /// no token byte (e.g. a TLS handshake), a CR not followed by LF or an LF
    /// not after a CR. Caught now rather than at the header timeout.
    private static func isHopeless(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < bytes.count, bytes[index] != UInt8(ascii: " ") {
            guard HeadLines.isTokenByte(bytes[index]) else { return true }
            index += 1
        }
        var from = 0
        while let carriageReturn = HeadLines.index(of: UInt8(ascii: "\r"), in: bytes, from: from) {
            if carriageReturn + 1 < bytes.count, bytes[carriageReturn + 1] != UInt8(ascii: "\n") { return true }
            from = carriageReturn + 1
        }
        from = 0
        while let lineFeed = HeadLines.index(of: UInt8(ascii: "\n"), in: bytes, from: from) {
            if lineFeed == 0 || bytes[lineFeed - 1] != UInt8(ascii: "\r") { return true }
            from = lineFeed + 1
        }
        return false
    }

    /// Parses a complete head (request line through the blank line), its header
    /// lines into `lines` (emptied first, storage reused).
    static func parseHead(_ head: ByteBuffer, lines: inout [HeadLines.Line]) throws(ClientRequestError) -> ClientRequestHead {
        let result: Result<ClientRequestHead, ClientRequestError> = head.withUnsafeReadableBytes { bytes in
            do throws(ClientRequestError) {
                return .success(try Self.parseHead(head, bytes, lines: &lines))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The method's bytes (`0..<end`), when they are one the proxy treats apart.
    private static func knownMethod(_ bytes: UnsafeRawBufferPointer, end: Int) -> KnownMethod? {
        switch end {
        case 3:
            if HeadLines.matches(bytes, at: 0, "GET") { return .get }
            if HeadLines.matches(bytes, at: 0, "PUT") { return .put }
        case 4:
            if HeadLines.matches(bytes, at: 0, "POST") { return .post }
            if HeadLines.matches(bytes, at: 0, "HEAD") { return .head }
        case 5:
            if HeadLines.matches(bytes, at: 0, "PATCH") { return .patch }
        case 6:
            if HeadLines.matches(bytes, at: 0, "DELETE") { return .delete }
        case 7:
            if HeadLines.matches(bytes, at: 0, "OPTIONS") { return .options }
        default:
            break
        }
        return nil
    }

    private static func parseHead(
        _ head: ByteBuffer, _ bytes: UnsafeRawBufferPointer, lines: inout [HeadLines.Line]
    ) throws(ClientRequestError) -> ClientRequestHead {
        // Request line: method SP request-target SP HTTP/1.x CRLF.
        guard let firstNewline = HeadLines.index(of: UInt8(ascii: "\n"), in: bytes, from: 0), firstNewline > 0,
            bytes[firstNewline - 1] == UInt8(ascii: "\r")
        else { throw .malformedRequest }
        let lineEnd = firstNewline - 1
        var methodEnd = 0
        while methodEnd < lineEnd, HeadLines.isTokenByte(bytes[methodEnd]) { methodEnd += 1 }
        guard methodEnd > 0, methodEnd < lineEnd, bytes[methodEnd] == UInt8(ascii: " ") else { throw .malformedRequest }
        let targetStart = methodEnd + 1
        var targetEnd = targetStart
        // Visible ASCII only: no spaces, controls or raw non-ASCII bytes.
        while targetEnd < lineEnd, bytes[targetEnd] > 0x20, bytes[targetEnd] < 0x7F { targetEnd += 1 }
        guard targetEnd > targetStart, targetEnd < lineEnd, bytes[targetEnd] == UInt8(ascii: " ") else { throw .malformedRequest }
        let versionStart = targetEnd + 1
        guard lineEnd - versionStart == 8, HeadLines.matches(bytes, at: versionStart, "HTTP/"),
            bytes[versionStart + 6] == UInt8(ascii: "."),
            case let major = bytes[versionStart + 5], case let minor = bytes[versionStart + 7],
            major >= UInt8(ascii: "0"), major <= UInt8(ascii: "9"), minor >= UInt8(ascii: "0"), minor <= UInt8(ascii: "9")
        else { throw .malformedRequest }
        guard major == UInt8(ascii: "1"), minor <= UInt8(ascii: "1") else { throw .unsupportedVersion }
        let isHTTP10 = minor == UInt8(ascii: "0")
        let knownMethod = Self.knownMethod(bytes, end: methodEnd)
        if methodEnd == 7, knownMethod == nil, HeadLines.matches(bytes, at: 0, "CONNECT") {
            // A tunnel is no request for an app server.
            throw .methodNotAllowed
        }

        // Header lines.
        lines.removeAll(keepingCapacity: true)
        lines.reserveCapacity(12)
        var contentLength: Int? = nil
        var transferEncodings = 0
        var chunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        var listedNames: [Range<Int>] = []
        var hostCount = 0
        var hostValue: Range<Int>? = nil
        var hasCookie = false
        var expectsContinue = false
        var hasForwarded = false
        var index = firstNewline + 1
        while index < bytes.count {
            guard let newline = HeadLines.index(of: UInt8(ascii: "\n"), in: bytes, from: index), newline > index,
                bytes[newline - 1] == UInt8(ascii: "\r")
            else { throw .malformedRequest }
            let end = newline - 1
            if end == index { break }  // the blank line
            guard var line = HeadLines.parseLine(bytes, start: index, end: end, endsInCRLF: true) else { throw .malformedRequest }
            index = newline + 1
            let name = line.name
            let value = line.value
            switch name.count {
            case 4:
                if HeadLines.equalsIgnoringCase(bytes, name, "host") {
                    hostCount += 1
                    if hostValue == nil { hostValue = value }
                }
            case 6:
                if HeadLines.equalsIgnoringCase(bytes, name, "cookie") {
                    hasCookie = true
                } else if HeadLines.equalsIgnoringCase(bytes, name, "expect"),
                    HeadLines.equalsIgnoringCase(bytes, value, "100-continue")
                {
                    // Answered here, so not forwarded; an HTTP/1.0 client's
                    // expectation is ignored (RFC 9110 §10.1.1).
                    expectsContinue = !isHTTP10
                    line.keep = false
                }
            case 9:
                if HeadLines.equalsIgnoringCase(bytes, name, "x-real-ip") {
                    hasForwarded = true
                    line.keep = false
                }
            case 10:
                if HeadLines.equalsIgnoringCase(bytes, name, "connection") {
                    HeaderHygiene.forEachListElement(bytes: bytes, in: value) { token in
                        if HeadLines.equalsIgnoringCase(bytes, token, "close") {
                            connectionClose = true
                        } else if HeadLines.equalsIgnoringCase(bytes, token, "keep-alive") {
                            connectionKeepAlive = true
                        }
                        // Every listed name goes (`close` included: a `Close` header is
                        // dropped too, as in responses) but Host, which HTTP/1.1 requires.
                        if !HeaderHygiene.isRemoved(bytes: UnsafeRawBufferPointer(rebasing: bytes[token])),
                            !HeadLines.equalsIgnoringCase(bytes, token, "host")
                        {
                            listedNames.append(token)
                        }
                    }
                }
            case 14:
                if HeadLines.equalsIgnoringCase(bytes, name, "content-length") {
                    guard let length = HeadLines.decimal(bytes, value), contentLength == nil || contentLength == length else {
                        throw .invalidContentLength
                    }
                    contentLength = length
                    // The proxy writes the body's framing itself.
                    line.keep = false
                }
            case 15, 16, 17:
                if HeadLines.hasPrefixIgnoringCase(bytes, name, "x-forwarded-") {
                    if HeadLines.equalsIgnoringCase(bytes, name, "x-forwarded-for")
                        || HeadLines.equalsIgnoringCase(bytes, name, "x-forwarded-proto")
                        || HeadLines.equalsIgnoringCase(bytes, name, "x-forwarded-host")
                    {
                        // Replaced by the proxy's own.
                        hasForwarded = true
                        line.keep = false
                    }
                } else if HeadLines.equalsIgnoringCase(bytes, name, "transfer-encoding") {
                    transferEncodings += 1
                    chunked = HeadLines.equalsIgnoringCase(bytes, value, "chunked")
                }
            default:
                break
            }
            if line.keep {
                // Hop-by-hop names, and names with an underscore (nginx drops
                // them: CGI-style apps read `_` and `-` alike).
                line.keep =
                    !HeaderHygiene.isRemoved(bytes: UnsafeRawBufferPointer(rebasing: bytes[name]))
                    && HeadLines.index(of: UInt8(ascii: "_"), in: UnsafeRawBufferPointer(rebasing: bytes[name]), from: 0) == nil
            }
            lines.append(line)
        }

        // Framing: anything but one Transfer-Encoding of exactly `chunked`, on
        // HTTP/1.1 and without a Content-Length, is refused (RFC 9112 §6.1, §6.3).
        let framing: RequestFraming
        if transferEncodings > 0 {
            guard transferEncodings == 1, chunked, contentLength == nil, !isHTTP10 else { throw .ambiguousTransferEncoding }
            framing = .chunked
        } else if let contentLength {
            framing = .length(contentLength)
        } else {
            framing = .none
        }
        // HTTP/1.1 needs one Host; HTTP/1.0 may have none, never two (it goes
        // upstream as HTTP/1.1, where two would be read as the app chooses).
        if hostCount > 1 || (!isHTTP10 && hostCount == 0) {
            throw .hostRequired
        }
        HeadLines.dropListed(&lines, listed: listedNames, in: bytes)
        return ClientRequestHead(
            bytes: head,
            method: knownMethod?.text ?? HeadLines.string(bytes, 0..<methodEnd),
            target: targetStart..<targetEnd,
            isHTTP10: isHTTP10,
            framing: framing,
            keepAlive: isHTTP10 ? connectionKeepAlive && !connectionClose : !connectionClose,
            lines: lines,
            hostCount: hostCount,
            hostValue: hostValue,
            hasCookie: hasCookie,
            expectsContinue: expectsContinue,
            hasForwarded: hasForwarded,
            knownMethod: knownMethod
        )
    }
}
