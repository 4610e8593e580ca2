import Synchronization

/// A deliberately dumb, blocking HTTP/1.1 client over a plain POSIX TCP socket, for bad-input and
/// byte-exact tests: you send exactly the bytes you want and read back exactly what came.
///
/// Every blocking call is bounded by the receive/send timeout (default 5 s). Each blocking method has
/// an `async` overload of the same name that runs the work on a dedicated thread (see ``BlockingIO``),
/// so async tests never block the Swift concurrency pool; in an async context the compiler picks the
/// async overload (write `await`).
///
/// Calls on one client are serialised; the client is `Sendable` so it can be handed between tasks.
public final class RawHTTPClient: Sendable {
    public static let defaultTimeout: Duration = .seconds(5)

    public let host: String
    public let port: Int
    private let connection: Mutex<Connection>

    private init(host: String, port: Int, fd: Int32, timeout: Duration) {
        self.host = host
        self.port = port
        self.connection = Mutex(Connection(fd: fd, timeout: timeout))
    }

    deinit {
        self.connection.withLock { $0.close(reset: false) }
    }

    // MARK: Connecting

    /// Connects to `host:port` (loopback by default). Throws ``RawHTTPClientError/connectFailed(host:port:errno:)``
    /// when nothing listens there (ECONNREFUSED).
    public static func connect(
        port: Int,
        host: String = "127.0.0.1",
        timeout: Duration = RawHTTPClient.defaultTimeout
    ) throws -> RawHTTPClient {
        guard POSIXSocket.makeAddress(host: host, port: port) != nil else {
            throw RawHTTPClientError.invalidAddress(host: host, port: port)
        }
        let fd = POSIXSocket.connect(host: host, port: port, timeout: timeout)
        guard fd >= 0 else {
            throw RawHTTPClientError.connectFailed(host: host, port: port, errno: -fd)
        }
        return RawHTTPClient(host: host, port: port, fd: fd, timeout: timeout)
    }

    public static func connect(
        port: Int,
        host: String = "127.0.0.1",
        timeout: Duration = RawHTTPClient.defaultTimeout
    ) async throws -> RawHTTPClient {
        try await BlockingIO.run {
            try RawHTTPClient.connect(port: port, host: host, timeout: timeout)
        }
    }

    // MARK: State

    /// False once ``close()`` or ``reset()`` was called.
    public var isOpen: Bool {
        self.connection.withLock { $0.fd >= 0 }
    }

    /// Bytes received but not yet consumed by a read call.
    public var bufferedByteCount: Int {
        self.connection.withLock { $0.available }
    }

    /// Total bytes received on this connection so far.
    public var totalBytesReceived: Int {
        self.connection.withLock { $0.totalReceived }
    }

    /// The receive and send timeout.
    public var timeout: Duration {
        self.connection.withLock { $0.timeout }
    }

    public func setTimeout(_ timeout: Duration) {
        self.connection.withLock { $0.setTimeout(timeout) }
    }

    // MARK: Sending

    public func send(_ bytes: [UInt8]) throws {
        try self.connection.withLock { try $0.send(bytes) }
    }

    public func send(_ string: String) throws {
        try self.send(Array(string.utf8))
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await BlockingIO.run { try self.send(bytes) }
    }

    public func send(_ string: String) async throws {
        try await BlockingIO.run { try self.send(string) }
    }

    /// Sends `totalBytes` of body without ever holding more than one chunk in memory. Call after
    /// sending a head with `Content-Length: totalBytes` (or `Transfer-Encoding: chunked` with
    /// `chunkedEncoding: true`, which also sends the terminating `0\r\n\r\n`).
    /// Byte `k` of the body is `UInt8(k & 0xFF)` (the same pattern as ``FakeAppServer``'s downloads).
    public func sendStreamingBody(totalBytes: Int, chunk: Int = 64 * 1024, chunkedEncoding: Bool = false) throws {
        try self.connection.withLock {
            try $0.sendStreamingBody(totalBytes: totalBytes, chunk: chunk, chunkedEncoding: chunkedEncoding)
        }
    }

    public func sendStreamingBody(totalBytes: Int, chunk: Int = 64 * 1024, chunkedEncoding: Bool = false) async throws {
        try await BlockingIO.run {
            try self.sendStreamingBody(totalBytes: totalBytes, chunk: chunk, chunkedEncoding: chunkedEncoding)
        }
    }

    /// Half-closes the connection (shutdown(SHUT_WR)): the peer reads EOF, we can still read.
    public func shutdownWrite() {
        self.connection.withLock { $0.shutdownWrite() }
    }

    // MARK: Receiving

    /// Reads one complete response: status line, headers (order and duplicates kept) and the body framed
    /// by `Transfer-Encoding: chunked`, `Content-Length` or connection close. Pass `forHeadRequest: true`
    /// when the request was HEAD (no body follows whatever the headers say). Interim 1xx responses
    /// (other than 101) are skipped unless `skipInformational` is false.
    public func readResponse(forHeadRequest: Bool = false, skipInformational: Bool = true) throws -> TestResponse {
        try self.connection.withLock {
            try $0.readResponse(forHeadRequest: forHeadRequest, skipInformational: skipInformational, collectBody: true).response
        }
    }

    public func readResponse(forHeadRequest: Bool = false, skipInformational: Bool = true) async throws -> TestResponse {
        try await BlockingIO.run {
            try self.readResponse(forHeadRequest: forHeadRequest, skipInformational: skipInformational)
        }
    }

    /// Like ``readResponse(forHeadRequest:skipInformational:)`` but counts the body instead of keeping
    /// it (the returned response has an empty `body`): for multi-GiB downloads.
    public func readResponseDiscardingBody(
        forHeadRequest: Bool = false
    ) throws -> (response: TestResponse, bodyByteCount: Int) {
        try self.connection.withLock {
            try $0.readResponse(forHeadRequest: forHeadRequest, skipInformational: true, collectBody: false)
        }
    }

    public func readResponseDiscardingBody(
        forHeadRequest: Bool = false
    ) async throws -> (response: TestResponse, bodyByteCount: Int) {
        try await BlockingIO.run { try self.readResponseDiscardingBody(forHeadRequest: forHeadRequest) }
    }

    /// Everything (buffered and new) until the peer closes or resets the connection.
    /// Throws ``RawHTTPClientError/timedOut(waitingFor:bytesReceived:)`` if it stays open past the timeout.
    public func readUntilClose() throws -> [UInt8] {
        try self.connection.withLock { try $0.readUntilClose() }
    }

    public func readUntilClose() async throws -> [UInt8] {
        try await BlockingIO.run { try self.readUntilClose() }
    }

    /// Waits up to `within` for the peer to close (FIN) or reset the connection. Bytes arriving
    /// meanwhile are kept for later reads. `within: .zero` just checks.
    public func isClosedByPeer(within: Duration) -> Bool {
        self.connection.withLock { $0.isClosedByPeer(within: within) }
    }

    public func isClosedByPeer(within: Duration) async -> Bool {
        // BlockingIO.run only rethrows what the body throws; this body does not throw.
        (try? await BlockingIO.run { self.isClosedByPeer(within: within) }) ?? false
    }

    // MARK: Closing

    /// Closes the connection (FIN). Idempotent.
    public func close() {
        self.connection.withLock { $0.close(reset: false) }
    }

    /// Aborts the connection with a RST (SO_LINGER 0), as a crashing client would. Idempotent.
    public func reset() {
        self.connection.withLock { $0.close(reset: true) }
    }

    // MARK: Formatting

    /// Formats a request head (and body): `METHOD path HTTP/1.1`, the given headers verbatim in order,
    /// then `Content-Length` unless a `Content-Length`/`Transfer-Encoding` header was given and a body is
    /// present (or the method usually carries one).
    public static func formatRequest(
        method: String,
        path: String,
        headers: [(String, String)],
        body: [UInt8]?
    ) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\n"
        for (name, value) in headers {
            head += "\(name): \(value)\r\n"
        }
        let hasFraming = headers.contains {
            $0.0.caseInsensitiveEquals("content-length") || $0.0.caseInsensitiveEquals("transfer-encoding")
        }
        if !hasFraming {
            if let body {
                head += "Content-Length: \(body.count)\r\n"
            } else if ["POST", "PUT", "PATCH"].contains(method.uppercased()) {
                head += "Content-Length: 0\r\n"
            }
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body {
            bytes.append(contentsOf: body)
        }
        return bytes
    }
}

// MARK: - The blocking connection state machine

private let maximumHeadBytes = 1024 * 1024
private let maximumLineBytes = 64 * 1024
private let receiveChunk = 64 * 1024

private enum BodyFraming {
    case none
    case length(Int)
    case chunked
    case untilClose
}

private struct Connection {
    var fd: Int32
    var timeout: Duration
    var buffer: [UInt8] = []
    var readIndex = 0
    var scratch = [UInt8](repeating: 0, count: receiveChunk)
    var totalReceived = 0
    var peerClosed = false
    var peerReset = false

    init(fd: Int32, timeout: Duration) {
        self.fd = fd
        self.timeout = timeout
    }

    var available: Int { self.buffer.count - self.readIndex }

    mutating func setTimeout(_ timeout: Duration) {
        self.timeout = timeout
        if self.fd >= 0 {
            POSIXSocket.setTimeouts(fd: self.fd, timeout: timeout)
        }
    }

    mutating func close(reset: Bool) {
        guard self.fd >= 0 else { return }
        if reset {
            POSIXSocket.resetAndClose(self.fd)
        } else {
            _ = POSIXSocket.closeSocket(self.fd)
        }
        self.fd = -1
    }

    mutating func shutdownWrite() {
        guard self.fd >= 0 else { return }
        POSIXSocket.shutdownWrite(self.fd)
    }

    // MARK: Sending

    mutating func send(_ bytes: [UInt8]) throws {
        guard self.fd >= 0 else { throw RawHTTPClientError.notConnected }
        let fd = self.fd
        let failure = bytes.withUnsafeBytes { POSIXSocket.sendAll(fd: fd, bytes: $0) }
        if let failure {
            throw RawHTTPClientError.sendFailed(errno: failure.errno, bytesSent: failure.sent)
        }
    }

    mutating func sendStreamingBody(totalBytes: Int, chunk: Int, chunkedEncoding: Bool) throws {
        guard self.fd >= 0 else { throw RawHTTPClientError.notConnected }
        let chunkSize = max(1, chunk)
        // One pattern buffer, 256 bytes longer than a chunk, so any offset's slice starts on the right byte.
        let pattern = (0..<(chunkSize + 256)).map { UInt8(truncatingIfNeeded: $0) }
        let fd = self.fd
        var sent = 0
        while sent < totalBytes {
            let count = min(chunkSize, totalBytes - sent)
            let start = sent & 0xFF
            if chunkedEncoding {
                let sizeLine = Array("\(String(count, radix: 16))\r\n".utf8)
                if let failure = sizeLine.withUnsafeBytes({ POSIXSocket.sendAll(fd: fd, bytes: $0) }) {
                    throw RawHTTPClientError.sendFailed(errno: failure.errno, bytesSent: sent)
                }
            }
            let failure = pattern.withUnsafeBytes { raw in
                POSIXSocket.sendAll(fd: fd, bytes: UnsafeRawBufferPointer(rebasing: raw[start..<(start + count)]))
            }
            if let failure {
                throw RawHTTPClientError.sendFailed(errno: failure.errno, bytesSent: sent + failure.sent)
            }
            sent += count
            if chunkedEncoding {
                if let failure = Array("\r\n".utf8).withUnsafeBytes({ POSIXSocket.sendAll(fd: fd, bytes: $0) }) {
                    throw RawHTTPClientError.sendFailed(errno: failure.errno, bytesSent: sent)
                }
            }
        }
        if chunkedEncoding {
            if let failure = Array("0\r\n\r\n".utf8).withUnsafeBytes({ POSIXSocket.sendAll(fd: fd, bytes: $0) }) {
                throw RawHTTPClientError.sendFailed(errno: failure.errno, bytesSent: sent)
            }
        }
    }

    // MARK: Receiving primitives

    /// Reads more bytes into the buffer.
    mutating func fill() -> POSIXSocket.RecvResult {
        guard self.fd >= 0 else { return .endOfFile }
        if self.peerReset { return .reset }
        if self.peerClosed { return .endOfFile }
        if self.readIndex == self.buffer.count {
            self.buffer.removeAll(keepingCapacity: true)
            self.readIndex = 0
        } else if self.readIndex >= receiveChunk {
            self.buffer.removeSubrange(0..<self.readIndex)
            self.readIndex = 0
        }
        let fd = self.fd
        let result = self.scratch.withUnsafeMutableBytes { POSIXSocket.receive(fd: fd, into: $0) }
        switch result {
        case .data(let count):
            self.buffer.append(contentsOf: self.scratch[0..<count])
            self.totalReceived += count
        case .endOfFile:
            self.peerClosed = true
        case .reset:
            self.peerReset = true
        case .timedOut:
            break
        }
        return result
    }

    func endError(_ result: POSIXSocket.RecvResult, waitingFor item: String, received: Int) -> RawHTTPClientError {
        switch result {
        case .timedOut: return .timedOut(waitingFor: item, bytesReceived: received)
        case .reset: return .connectionReset(waitingFor: item, bytesReceived: received)
        case .endOfFile, .data: return .closedByPeer(waitingFor: item, bytesReceived: received)
        }
    }

    /// Index of the first byte of `needle` in the unread buffer at or after `from`, or nil.
    func find(_ needle: [UInt8], from: Int) -> Int? {
        guard let first = needle.first else { return nil }
        var index = max(from, self.readIndex)
        let last = self.buffer.count - needle.count
        while index <= last {
            if self.buffer[index] == first {
                var matched = true
                for offset in 1..<needle.count where self.buffer[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    /// Reads one CRLF-terminated line (without the CRLF).
    mutating func readLine(waitingFor item: String) throws -> [UInt8] {
        // Offset from readIndex already searched: fill() may compact the buffer and move readIndex.
        var searched = 0
        while true {
            if let end = self.find([13, 10], from: self.readIndex + searched) {
                let line = Array(self.buffer[self.readIndex..<end])
                self.readIndex = end + 2
                return line
            }
            if self.available > maximumLineBytes {
                throw RawHTTPClientError.malformedResponse("\(item) longer than \(maximumLineBytes) bytes")
            }
            searched = max(0, self.available - 1)
            let result = self.fill()
            if case .data = result { continue }
            throw self.endError(result, waitingFor: item, received: self.available)
        }
    }

    // MARK: Responses

    mutating func readResponse(
        forHeadRequest: Bool,
        skipInformational: Bool,
        collectBody: Bool
    ) throws -> (response: TestResponse, bodyByteCount: Int) {
        while true {
            var response = try self.readHead()
            if skipInformational && (100..<200).contains(response.status) && response.status != 101 {
                continue
            }
            let framing = try self.framing(of: response, forHeadRequest: forHeadRequest)
            var body: [UInt8] = []
            let count = try self.readBody(framing: framing, collect: collectBody, into: &body, response: &response)
            response.body = body
            return (response, count)
        }
    }

    mutating func readHead() throws -> TestResponse {
        guard self.fd >= 0 else { throw RawHTTPClientError.notConnected }
        // Offset from readIndex already searched: fill() may compact the buffer and move readIndex.
        var searched = 0
        while true {
            if let end = self.find([13, 10, 13, 10], from: self.readIndex + searched) {
                let headBytes = Array(self.buffer[self.readIndex..<end])
                self.readIndex = end + 4
                return try Self.parseHead(headBytes)
            }
            if self.available > maximumHeadBytes {
                throw RawHTTPClientError.malformedResponse("response head longer than \(maximumHeadBytes) bytes")
            }
            searched = max(0, self.available - 3)
            let result = self.fill()
            if case .data = result { continue }
            throw self.endError(result, waitingFor: "response head", received: self.available)
        }
    }

    static func parseHead(_ bytes: [UInt8]) throws -> TestResponse {
        let rawHead = String(decoding: bytes, as: UTF8.self)
        var lines = rawHead.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { throw RawHTTPClientError.malformedResponse("empty response head") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), parts[1].count == 3, let status = Int(parts[1]) else {
            throw RawHTTPClientError.malformedResponse("bad status line \(statusLine.debugDescription)")
        }
        var headers: [(String, String)] = []
        for line in lines {
            if line.first == " " || line.first == "\t" {
                throw RawHTTPClientError.malformedResponse("obsolete line folding in \(line.debugDescription)")
            }
            guard let colon = line.firstIndex(of: ":") else {
                throw RawHTTPClientError.malformedResponse("header line without colon \(line.debugDescription)")
            }
            let name = String(line[..<colon])
            guard !name.isEmpty, !name.contains(" "), !name.contains("\t") else {
                throw RawHTTPClientError.malformedResponse("bad header name in \(line.debugDescription)")
            }
            let value = line[line.index(after: colon)...].trimmingOWS()
            headers.append((name, value))
        }
        return TestResponse(
            version: String(parts[0]),
            status: status,
            reason: parts.count > 2 ? String(parts[2]) : "",
            headers: headers,
            rawHead: rawHead
        )
    }

    func framing(of response: TestResponse, forHeadRequest: Bool) throws -> BodyFraming {
        if forHeadRequest || (100..<200).contains(response.status) || response.status == 204 || response.status == 304 {
            return .none
        }
        let codings = response.headers(named: "Transfer-Encoding")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingOWS().lowercased() }
            .filter { !$0.isEmpty }
        if !codings.isEmpty {
            return codings.last == "chunked" ? .chunked : .untilClose
        }
        let lengths = response.headers(named: "Content-Length")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingOWS() }
        if lengths.isEmpty {
            return .untilClose
        }
        guard let first = lengths.first, let length = Int(first), length >= 0, lengths.allSatisfy({ $0 == first }) else {
            throw RawHTTPClientError.malformedResponse("invalid Content-Length \(lengths)")
        }
        return .length(length)
    }

    /// Reads the body; returns the number of body bytes (excluding chunk framing).
    mutating func readBody(
        framing: BodyFraming,
        collect: Bool,
        into body: inout [UInt8],
        response: inout TestResponse
    ) throws -> Int {
        switch framing {
        case .none:
            return 0
        case .length(let length):
            var received = 0
            if let cause = self.consume(length, collect: collect, into: &body, counting: &received) {
                throw self.truncated(response, body: body, expected: length, received: received, cause: cause)
            }
            return received
        case .untilClose:
            var received = 0
            while true {
                if self.available > 0 {
                    _ = self.consume(self.available, collect: collect, into: &body, counting: &received)
                }
                switch self.fill() {
                case .data:
                    continue
                case .endOfFile:
                    return received
                case .reset:
                    throw self.truncated(response, body: body, expected: nil, received: received, cause: .reset)
                case .timedOut:
                    throw self.truncated(response, body: body, expected: nil, received: received, cause: .timedOut)
                }
            }
        case .chunked:
            var received = 0
            do {
                while true {
                    let sizeLine = String(decoding: try self.readLine(waitingFor: "chunk size line"), as: UTF8.self)
                    let sizeText = sizeLine.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
                        .first.map { $0.trimmingOWS() } ?? ""
                    guard let size = Int(sizeText, radix: 16), size >= 0 else {
                        throw RawHTTPClientError.malformedResponse("bad chunk size line \(sizeLine.debugDescription)")
                    }
                    if size == 0 {
                        while true {
                            let line = try self.readLine(waitingFor: "chunked trailer")
                            if line.isEmpty { return received }
                            let text = String(decoding: line, as: UTF8.self)
                            if let colon = text.firstIndex(of: ":") {
                                response.trailers.append((String(text[..<colon]), text[text.index(after: colon)...].trimmingOWS()))
                            }
                        }
                    }
                    if let cause = self.consume(size, collect: collect, into: &body, counting: &received) {
                        throw self.truncated(response, body: body, expected: nil, received: received, cause: cause)
                    }
                    let terminator = try self.readLine(waitingFor: "chunk terminator")
                    guard terminator.isEmpty else {
                        throw RawHTTPClientError.malformedResponse("chunk data longer than its size line (\(size))")
                    }
                }
            } catch let error as RawHTTPClientError {
                switch error {
                case .timedOut:
                    throw self.truncated(response, body: body, expected: nil, received: received, cause: .timedOut)
                case .closedByPeer:
                    throw self.truncated(response, body: body, expected: nil, received: received, cause: .closed)
                case .connectionReset:
                    throw self.truncated(response, body: body, expected: nil, received: received, cause: .reset)
                default:
                    throw error
                }
            }
        }
    }

    func truncated(
        _ response: TestResponse,
        body: [UInt8],
        expected: Int?,
        received: Int,
        cause: TruncationCause
    ) -> RawHTTPClientError {
        var partial = response
        partial.body = body
        return .truncatedBody(TruncatedBody(response: partial, expectedBytes: expected, receivedBytes: received, cause: cause))
    }

    /// Consumes exactly `count` bytes; returns nil on success or why it stopped early.
    mutating func consume(_ count: Int, collect: Bool, into body: inout [UInt8], counting received: inout Int) -> TruncationCause? {
        var remaining = count
        while remaining > 0 {
            if self.available == 0 {
                switch self.fill() {
                case .data: break
                case .endOfFile: return .closed
                case .reset: return .reset
                case .timedOut: return .timedOut
                }
            }
            let take = min(remaining, self.available)
            if collect {
                body.append(contentsOf: self.buffer[self.readIndex..<(self.readIndex + take)])
            }
            self.readIndex += take
            remaining -= take
            received += take
        }
        return nil
    }

    mutating func readUntilClose() throws -> [UInt8] {
        var bytes = Array(self.buffer[self.readIndex...])
        self.readIndex = self.buffer.count
        while true {
            let result = self.fill()
            switch result {
            case .data:
                bytes.append(contentsOf: self.buffer[self.readIndex...])
                self.readIndex = self.buffer.count
            case .endOfFile, .reset:
                return bytes
            case .timedOut:
                throw RawHTTPClientError.timedOut(waitingFor: "connection close", bytesReceived: bytes.count)
            }
        }
    }

    mutating func isClosedByPeer(within: Duration) -> Bool {
        guard self.fd >= 0 else { return true }
        if self.peerClosed || self.peerReset { return true }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: within)
        while true {
            let remaining = max(.zero, clock.now.duration(to: deadline))
            switch POSIXSocket.pollReadable(fd: self.fd, timeout: remaining) {
            case .hangup:
                return true
            case .timedOut:
                return false
            case .readable:
                switch self.fill() {
                case .endOfFile, .reset:
                    return true
                case .data, .timedOut:
                    if clock.now >= deadline { return false }
                }
            }
        }
    }
}

extension StringProtocol {
    /// Trims optional whitespace (SP / HTAB) on both ends.
    func trimmingOWS() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
