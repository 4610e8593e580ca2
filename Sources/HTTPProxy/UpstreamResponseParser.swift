import NIOCore

/// How a response's body ends (RFC 9112 §6.3).
package enum ResponseFraming: Equatable {
    /// No body: a response to HEAD, a 204 or a 304.
    case empty
    case length(Int)
    case chunked
    /// Read until the app server closes the connection.
    case untilClose
}

/// A response head as the app server sent it, kept as its bytes: the header
/// lines that cross the proxy are forwarded verbatim, without turning every
/// name and value into a `String` and encoding them again.
package struct UpstreamResponseHead {
    /// The head's bytes: status line, header lines, blank line.
    package let bytes: ByteBuffer
    package let status: Int
    /// "200 OK": the status code and reason phrase, offsets into `bytes`.
    package let statusText: Range<Int>
    /// The header lines that cross the proxy, as runs of consecutive lines
    /// (hop-by-hop headers, the names `Connection` lists, `Proxy-*` and
    /// `X-Switchyard-*` are not in them). A run with `appendLineEnd` is one
    /// line whose own end was a bare LF; the others include their CRLFs.
    package let runs: [Run]
    package let framing: ResponseFraming
    /// The app server keeps the connection open after this response.
    package let keepAlive: Bool
    /// `X-Switchyard-Pin`, lower-cased, when the app sent it.
    package let pinDirective: String?
    /// `X-Switchyard-LSN`, trimmed, when the app sent it.
    package let lsnText: String?

    package typealias Run = HeadLines.Run

    /// The forwarded header lines, each ending in CRLF (for tests and logs).
    package var forwardedLines: [String] {
        var lines: [String] = []
        for run in self.runs {
            let text = self.bytes.getString(at: self.bytes.readerIndex + run.start, length: run.length) ?? ""
            let parts = text.split(separator: "\r\n", omittingEmptySubsequences: true)
            lines.append(contentsOf: parts.map(String.init))
        }
        return lines
    }
}

/// What the parser found in the bytes it was fed.
package enum UpstreamResponseEvent {
    case head(UpstreamResponseHead)
    /// Body bytes, framing removed (slices of the received buffers, not copies).
    case body(ByteBuffer)
    /// The response is complete. `reusable`: the connection can carry another
    /// request (the app keeps it alive and sent nothing after the response).
    case end(reusable: Bool)
}

/// Why a response could not be parsed; the connection is closed.
enum UpstreamResponseError: Error, Equatable {
    case malformedStatusLine
    case malformedHeader
    case headTooLarge
    case invalidContentLength
    case unsupportedTransferEncoding
    case malformedChunk
    case switchingProtocols
    case unexpectedData
    case truncated
}

/// Receives what `UpstreamResponseParser.feed(_:to:_:)` completes, with the
/// context the caller handed `feed` (a parameter all the way down, not a
/// capture).
package protocol UpstreamResponseSink {
    associatedtype Context
    func receive(_ event: UpstreamResponseEvent, _ context: Context)
}

/// Parses the app server's side of an upstream connection: one response per
/// request, strictly (RFC 9112), as bytes.
///
/// A class, not a struct: what it emits reaches the proxy handler, which may
/// arm it again for the next request (after `.end`) while `feed` is still on
/// the stack; a mutating struct method would overlap that access.
///
/// The connection owner arms it for each request (`expectResponse`) and feeds
/// it what it reads; it emits the head, body slices and the end. Interim 1xx
/// responses are dropped (as nginx does); a `101` is an error (the proxy never
/// asks for an upgrade). Bytes that arrive when no response is expected, or
/// after a complete one, make the connection unusable.
package final class UpstreamResponseParser {
    /// The largest response head accepted (NIO's decoder limit, 80 KiB).
    static let maximumHeadBytes = 80 * 1024

    private enum State {
        /// No request outstanding.
        case idle
        case head
        case length(remaining: Int, keepAlive: Bool)
        case chunked(keepAlive: Bool)
        case untilClose
        /// A complete response, or an error: nothing more is read.
        case finished
    }

    private var state = State.idle
    private var isHEAD = false
    @exclusivity(unchecked) private var chunked = ChunkedBodyDecoder(acceptsBareLineFeed: true)
    /// Head bytes received so far, when a head spans reads.
    private var partialHead: ByteBuffer?
    /// How far `partialHead` has been searched for the head's end.
    private var headScanned = 0
    /// Reused by every head this connection parses (a pooled upstream
    /// connection carries many): no array is allocated per response while the
    /// last head is gone by the time the next one is parsed.
    /// (`@exclusivity(unchecked)`: see `LoopContext`.)
    @exclusivity(unchecked) private var runScratch: [HeadLines.Run] = []

    package init() {}

    /// A response is due: the request (`HEAD` or not) was written.
    package func expectResponse(toHEAD isHEAD: Bool) {
        self.state = .head
        self.isHEAD = isHEAD
        self.partialHead = nil
        self.headScanned = 0
    }

    /// Parses `input`, emitting what it completes. Throws on a protocol error
    /// (the caller closes the connection). The tests' and the fuzz target's
    /// form of `feed(_:to:_:)`.
    package func feed(_ input: ByteBuffer, _ emit: (UpstreamResponseEvent) -> Void) throws {
        try withoutActuallyEscaping(emit) { emit in
            try self.feed(input, to: ClosureSink(), emit)
        }
    }

    /// Hands each event to a closure (`feed(_:_:)`).
    private struct ClosureSink: UpstreamResponseSink {
        func receive(_ event: UpstreamResponseEvent, _ emit: (UpstreamResponseEvent) -> Void) {
            emit(event)
        }
    }

    /// Parses `input`, handing `sink` each event it completes with `context`.
    /// Throws on a protocol error (the caller closes the connection).
    ///
    /// A sink and its context rather than a closure: the proxy handler's
    /// closure captured the handler, the connection and the exchange, and the
    /// release build retained and released each of them around every read.
    /// Passed as parameters they are borrowed all the way down.
    package func feed<Sink: UpstreamResponseSink>(_ input: consuming ByteBuffer, to sink: Sink, _ context: Sink.Context) throws {
        // Consuming: the read's buffer is moved in, not copied (a retain and
        // a release of its storage per read).
        var buffer: ByteBuffer
        /// A head began in an earlier read: parse it only once it is complete.
        var resuming = false
        if var partial = self.partialHead {
            self.partialHead = nil
            partial.writeImmutableBuffer(input)
            buffer = partial
            resuming = true
        } else {
            buffer = input
        }
        while buffer.readableBytes > 0 {
            switch self.state {
            case .idle, .finished:
                self.state = .finished
                throw UpstreamResponseError.unexpectedData
            case .head:
                // A head that arrives whole (the usual case) is parsed in one
                // pass that also finds its end. One that spans reads is only
                // searched for its end until it is complete, from where the
                // last search stopped: no read re-parses what came before.
                if resuming, Self.headLength(buffer, from: self.headScanned) == nil {
                    try self.keepPartialHead(buffer)
                    return
                }
                resuming = false
                let parsed: ParsedHead
                do {
                    parsed = try Self.parseHead(buffer, isHEAD: self.isHEAD, runs: &self.runScratch)
                } catch {
                    self.state = .finished
                    throw error
                }
                let head: UpstreamResponseHead
                switch parsed {
                case .incomplete:
                    try self.keepPartialHead(buffer)
                    return
                case .interim(let length):
                    // An interim 1xx: dropped; the real head follows.
                    self.headScanned = 0
                    buffer.moveReaderIndex(forwardBy: length)
                    continue
                case .final(let parsedHead):
                    head = parsedHead
                }
                self.headScanned = 0
                guard head.bytes.readableBytes <= Self.maximumHeadBytes else {
                    self.state = .finished
                    throw UpstreamResponseError.headTooLarge
                }
                buffer.moveReaderIndex(forwardBy: head.bytes.readableBytes)
                sink.receive(.head(head), context)
                switch head.framing {
                case .empty, .length(0):
                    self.finish(remaining: buffer.readableBytes, keepAlive: head.keepAlive, to: sink, context)
                    return
                case .length(let length):
                    self.state = .length(remaining: length, keepAlive: head.keepAlive)
                case .chunked:
                    self.chunked = ChunkedBodyDecoder(acceptsBareLineFeed: true)
                    self.state = .chunked(keepAlive: head.keepAlive)
                case .untilClose:
                    self.state = .untilClose
                }
            case .length(let remaining, let keepAlive):
                let count = min(remaining, buffer.readableBytes)
                guard let slice = buffer.readSlice(length: count) else { return }
                sink.receive(.body(slice), context)
                if count == remaining {
                    self.finish(remaining: buffer.readableBytes, keepAlive: keepAlive, to: sink, context)
                    return
                }
                self.state = .length(remaining: remaining - count, keepAlive: keepAlive)
            case .chunked(let keepAlive):
                let output: ChunkedBodyDecoder.Output?
                do {
                    output = try self.chunked.next(&buffer)
                } catch {
                    self.state = .finished
                    throw UpstreamResponseError.malformedChunk
                }
                switch output {
                case .data(let slice):
                    sink.receive(.body(slice), context)
                case .end:
                    self.finish(remaining: buffer.readableBytes, keepAlive: keepAlive, to: sink, context)
                    return
                case nil:
                    return
                }
            case .untilClose:
                if let slice = buffer.readSlice(length: buffer.readableBytes) {
                    sink.receive(.body(slice), context)
                }
            }
        }
    }

    /// The app server closed its side. A body read until close ends here;
    /// any other unfinished response is truncated.
    package func endOfInput(_ emit: (UpstreamResponseEvent) -> Void) throws {
        switch self.state {
        case .untilClose:
            self.state = .finished
            emit(.end(reusable: false))
        case .length, .chunked:
            self.state = .finished
            throw UpstreamResponseError.truncated
        case .head:
            self.state = .finished
            if self.partialHead != nil {
                self.partialHead = nil
                throw UpstreamResponseError.truncated
            }
        case .idle, .finished:
            break
        }
    }

    /// Keeps the start of a head until the rest arrives.
    private func keepPartialHead(_ buffer: ByteBuffer) throws {
        if buffer.readableBytes > Self.maximumHeadBytes {
            self.state = .finished
            throw UpstreamResponseError.headTooLarge
        }
        // The next read resumes the search where this one stopped (a line end
        // may straddle the two): no rescan of what was seen.
        self.headScanned = max(0, buffer.readableBytes - 3)
        self.partialHead = buffer
    }

    private func finish<Sink: UpstreamResponseSink>(remaining: Int, keepAlive: Bool, to sink: Sink, _ context: Sink.Context) {
        self.state = .finished
        // Bytes after a complete response answer nothing we asked: the
        // connection is not reused (they are dropped with it).
        sink.receive(.end(reusable: keepAlive && remaining == 0), context)
    }

    // MARK: The head

    /// The length of the head (through its blank line) when `buffer` holds
    /// all of it, searching from offset `start` (a line start or earlier).
    private static func headLength(_ buffer: ByteBuffer, from start: Int) -> Int? {
        buffer.withUnsafeReadableBytes { Self.headLength($0, from: start) }
    }

    private static func headLength(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        let count = bytes.count
        while index < count {
            // Lines end in LF; the head ends with an empty line ("\n\n" or "\n\r\n").
            guard let newline = HeadLines.index(of: UInt8(ascii: "\n"), in: bytes, from: index) else { return nil }
            if newline + 1 < count, bytes[newline + 1] == UInt8(ascii: "\n") {
                return newline + 2
            }
            if newline + 2 < count, bytes[newline + 1] == UInt8(ascii: "\r"), bytes[newline + 2] == UInt8(ascii: "\n") {
                return newline + 3
            }
            index = newline + 1
        }
        return nil
    }

    /// What `parseHead` found at the start of the bytes.
    private enum ParsedHead {
        /// The head does not end in these bytes (what is there is valid so far).
        case incomplete
        /// An interim (1xx) response's head, of this length.
        case interim(length: Int)
        /// A final response's head; its `bytes` are the head's.
        case final(UpstreamResponseHead)
    }

    /// Parses the head at the start of `buffer` (status line through the
    /// blank line), finding its end as it goes. A head is judged only once it
    /// is complete, as when it arrives a byte at a time: an error in a head
    /// that has not ended yet reads as `.incomplete`.
    private static func parseHead(_ buffer: ByteBuffer, isHEAD: Bool, runs: inout [HeadLines.Run]) throws -> ParsedHead {
        try buffer.withUnsafeReadableBytes { bytes -> ParsedHead in
            do {
                return try Self.parseHead(bytes, of: buffer, isHEAD: isHEAD, runs: &runs)
            } catch {
                if Self.headLength(bytes, from: 0) == nil {
                    return .incomplete
                }
                throw error
            }
        }
    }

    private static func parseHead(
        _ bytes: UnsafeRawBufferPointer, of buffer: ByteBuffer, isHEAD: Bool, runs: inout [HeadLines.Run]
    ) throws -> ParsedHead {
        let count = bytes.count
        // Status line: HTTP/1.x SP 3DIGIT [SP reason]
        guard let firstNewline = HeadLines.index(of: UInt8(ascii: "\n"), in: bytes, from: 0) else {
            return .incomplete
        }
        var statusEnd = firstNewline
        if statusEnd > 0, bytes[statusEnd - 1] == UInt8(ascii: "\r") { statusEnd -= 1 }
        guard statusEnd >= 12,
            HeadLines.matches(bytes, at: 0, "HTTP/1."),
            bytes[7] == UInt8(ascii: "0") || bytes[7] == UInt8(ascii: "1"),
            bytes[8] == UInt8(ascii: " ")
        else { throw UpstreamResponseError.malformedStatusLine }
        let minor = Int(bytes[7] - UInt8(ascii: "0"))
        var status = 0
        for index in 9..<12 {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw UpstreamResponseError.malformedStatusLine }
            status = status * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard status >= 100 else { throw UpstreamResponseError.malformedStatusLine }
        if statusEnd > 12 {
            guard bytes[12] == UInt8(ascii: " ") else { throw UpstreamResponseError.malformedStatusLine }
            for index in 13..<statusEnd where !HeadLines.isFieldValueByte(bytes[index]) {
                throw UpstreamResponseError.malformedStatusLine
            }
        }
        if status == 101 {
            throw UpstreamResponseError.switchingProtocols
        }
        if status < 200 {
            return Self.headLength(bytes, from: 0).map { .interim(length: $0) } ?? .incomplete
        }

        // Header lines: the forwarded ones go straight into runs.
        runs.removeAll(keepingCapacity: true)
        runs.reserveCapacity(4)
        var builder = HeadLines.RunBuilder()
        var contentLength: Int? = nil
        var transferEncodingChunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        var listedNames: [Range<Int>] = []
        var pinDirective: String? = nil
        var lsnText: String? = nil
        let noBodyStatus = status == 204 || status == 304
        var index = firstNewline + 1
        var headLength: Int? = nil
        while index < count {
            guard let newline = HeadLines.index(of: UInt8(ascii: "\n"), in: bytes, from: index) else {
                return .incomplete
            }
            var end = newline
            var endsInCRLF = false
            if end > index, bytes[end - 1] == UInt8(ascii: "\r") {
                end -= 1
                endsInCRLF = true
            }
            if end == index {  // the blank line
                headLength = newline + 1
                break
            }
            guard let line = HeadLines.parseLine(bytes, start: index, end: end, endsInCRLF: endsInCRLF) else {
                throw UpstreamResponseError.malformedHeader
            }
            let name = line.name
            let value = line.value
            var keep = true
            switch bytes[index] | 0x20 {
            case UInt8(ascii: "c"):
                if HeadLines.equalsIgnoringCase(bytes, name, "content-length") {
                    guard let length = HeadLines.decimal(bytes, value), contentLength == nil || contentLength == length
                    else { throw UpstreamResponseError.invalidContentLength }
                    contentLength = length
                    keep = !noBodyStatus
                } else if HeadLines.equalsIgnoringCase(bytes, name, "connection") {
                    keep = false
                    HeaderHygiene.forEachListElement(bytes: bytes, in: value) { token in
                        if HeadLines.equalsIgnoringCase(bytes, token, "close") {
                            connectionClose = true
                        } else if HeadLines.equalsIgnoringCase(bytes, token, "keep-alive") {
                            connectionKeepAlive = true
                        }
                        // Every listed name goes, `close` included (a `Close` header
                        // is dropped too), except the body's framing: a listed
                        // Content-Length stays, or the client could not tell where
                        // the body ends.
                        if !HeaderHygiene.isRemoved(bytes: UnsafeRawBufferPointer(rebasing: bytes[token]))
                            && !HeadLines.equalsIgnoringCase(bytes, token, "content-length")
                        {
                            listedNames.append(token)
                        }
                    }
                }
            case UInt8(ascii: "t"):
                if HeadLines.equalsIgnoringCase(bytes, name, "transfer-encoding") {
                    guard !transferEncodingChunked, HeadLines.equalsIgnoringCase(bytes, value, "chunked") else {
                        throw UpstreamResponseError.unsupportedTransferEncoding
                    }
                    transferEncodingChunked = true
                    keep = false
                } else if HeaderHygiene.isRemoved(bytes: UnsafeRawBufferPointer(rebasing: bytes[name])) {
                    keep = false
                }
            case UInt8(ascii: "x"):
                if HeadLines.hasPrefixIgnoringCase(bytes, name, "x-switchyard-") {
                    keep = false
                    let text = HeadLines.string(bytes, value)
                    if HeadLines.equalsIgnoringCase(bytes, name, "x-switchyard-pin") {
                        pinDirective = text.lowercased()
                    } else if HeadLines.equalsIgnoringCase(bytes, name, "x-switchyard-lsn") {
                        lsnText = text
                    }
                }
            default:
                keep = !HeaderHygiene.isRemoved(bytes: UnsafeRawBufferPointer(rebasing: bytes[name]))
            }
            if keep {
                builder.add(start: index, end: end, endsInCRLF: endsInCRLF) { runs.append($0) }
            }
            index = newline + 1
        }
        guard let headLength else { return .incomplete }
        builder.finish { runs.append($0) }
        if transferEncodingChunked && contentLength != nil {
            // Both framings at once: a desync waiting to happen (RFC 9112 §6.3).
            throw UpstreamResponseError.invalidContentLength
        }
        HeadLines.dropListed(&runs, listed: listedNames, in: bytes)

        let framing: ResponseFraming
        if isHEAD || noBodyStatus {
            framing = .empty
        } else if transferEncodingChunked {
            framing = .chunked
        } else if let contentLength {
            framing = .length(contentLength)
        } else {
            framing = .untilClose
        }
        let keepAlive = (minor == 1 ? !connectionClose : connectionKeepAlive && !connectionClose) && framing != .untilClose

        let head = UpstreamResponseHead(
            bytes: buffer.getSlice(at: buffer.readerIndex, length: headLength) ?? buffer,
            status: status,
            statusText: 9..<statusEnd,
            runs: runs,
            framing: framing,
            keepAlive: keepAlive,
            pinDirective: pinDirective,
            lsnText: lsnText
        )
        return .final(head)
    }
}
