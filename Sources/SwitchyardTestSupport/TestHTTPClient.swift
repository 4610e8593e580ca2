import Logging
import Synchronization

/// A convenience keep-alive HTTP/1.1 client for happy-path tests, built on ``RawHTTPClient``.
///
/// - Reuses one connection; opens a new one when there is none, when the server closed the idle one,
///   or after a response that announced `Connection: close` (or was framed by close).
/// - Adds `Host: 127.0.0.1:PORT` unless given, `Content-Length` when there is a body, and a `Cookie:`
///   header from its ``CookieJar`` unless a `Cookie` header is given; stores every `Set-Cookie`.
/// - Requests on one client are serialised. A request already sent is never retried.
public final class TestHTTPClient: Sendable {
    public let host: String
    public let port: Int
    public let timeout: Duration
    public let cookies: CookieJar
    /// Headers sent with every request (before the per-request ones).
    public let defaultHeaders: [(String, String)]
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var connection: RawHTTPClient?
        var connectionsOpened = 0
    }

    public init(
        port: Int,
        host: String = "127.0.0.1",
        timeout: Duration = RawHTTPClient.defaultTimeout,
        cookies: CookieJar = CookieJar(),
        defaultHeaders: [(String, String)] = [],
        logger: Logger = Logger(label: "switchyard.test-support.http-client")
    ) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.cookies = cookies
        self.defaultHeaders = defaultHeaders
        self.logger = logger
        self.state = Mutex(State())
    }

    deinit {
        self.state.withLock { $0.connection?.close() }
    }

    /// How many TCP connections this client has opened so far.
    public var connectionsOpened: Int {
        self.state.withLock { $0.connectionsOpened }
    }

    public func request(
        method: String = "GET",
        path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) async throws -> TestResponse {
        try await BlockingIO.run {
            try self.performRequest(method: method, path: path, headers: headers, body: body)
        }
    }

    public func request(
        method: String = "GET",
        path: String,
        headers: [(String, String)] = [],
        body: String
    ) async throws -> TestResponse {
        try await self.request(method: method, path: path, headers: headers, body: Array(body.utf8))
    }

    public func get(_ path: String, headers: [(String, String)] = []) async throws -> TestResponse {
        try await self.request(method: "GET", path: path, headers: headers)
    }

    public func post(_ path: String, headers: [(String, String)] = [], body: String = "") async throws -> TestResponse {
        try await self.request(method: "POST", path: path, headers: headers, body: Array(body.utf8))
    }

    /// Closes the current connection (the next request opens a new one).
    public func close() {
        let connection = self.state.withLock { state in
            defer { state.connection = nil }
            return state.connection
        }
        connection?.close()
    }

    /// The blocking request/response exchange. Runs on a ``BlockingIO`` thread.
    private func performRequest(
        method: String,
        path: String,
        headers: [(String, String)],
        body: [UInt8]?
    ) throws -> TestResponse {
        try self.state.withLock { state in
            let connection = try self.usableConnection(&state)
            var allHeaders = self.defaultHeaders + headers
            if !allHeaders.contains(where: { $0.0.caseInsensitiveEquals("host") }) {
                allHeaders.insert(("Host", "\(self.host):\(self.port)"), at: 0)
            }
            if !allHeaders.contains(where: { $0.0.caseInsensitiveEquals("cookie") }), let cookie = self.cookies.cookieHeader {
                allHeaders.append(("Cookie", cookie))
            }
            let bytes = RawHTTPClient.formatRequest(method: method, path: path, headers: allHeaders, body: body)
            do {
                try connection.send(bytes)
                let response = try connection.readResponse(forHeadRequest: method.uppercased() == "HEAD")
                self.cookies.update(from: response)
                if response.closesConnection || !connection.isOpen || connection.isClosedByPeer(within: .zero) {
                    connection.close()
                    state.connection = nil
                }
                return response
            } catch {
                connection.close()
                state.connection = nil
                throw error
            }
        }
    }

    private func usableConnection(_ state: inout State) throws -> RawHTTPClient {
        if let existing = state.connection {
            if existing.isClosedByPeer(within: .zero) {
                let stray = existing.bufferedByteCount
                existing.close()
                state.connection = nil
                if stray > 0 {
                    throw TestHTTPClientError.unexpectedBytesOnIdleConnection(count: stray)
                }
                self.logger.debug("idle connection closed by server, reconnecting", metadata: ["port": "\(self.port)"])
            } else if existing.bufferedByteCount > 0 {
                let stray = existing.bufferedByteCount
                existing.close()
                state.connection = nil
                throw TestHTTPClientError.unexpectedBytesOnIdleConnection(count: stray)
            } else {
                return existing
            }
        }
        let connection = try RawHTTPClient.connect(port: self.port, host: self.host, timeout: self.timeout)
        state.connection = connection
        state.connectionsOpened += 1
        return connection
    }
}

public enum TestHTTPClientError: Error, Sendable, CustomStringConvertible {
    /// The server sent bytes on an idle keep-alive connection (e.g. more body than it announced).
    case unexpectedBytesOnIdleConnection(count: Int)

    public var description: String {
        switch self {
        case .unexpectedBytesOnIdleConnection(let count):
            return "the server sent \(count) unexpected bytes on an idle keep-alive connection"
        }
    }
}
