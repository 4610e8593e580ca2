import NIOHTTP1

/// Why the router answered a request itself, and the status that goes with
/// it: the one place proxy failures map to 502/503/504 (SPEC §4).
enum ProxyFailure: Sendable {
    enum Cause: Error, Sendable {
        /// Connect refused, reset or timed out: the request was not sent.
        case connectFailed
        /// The server's address could not be resolved.
        case unresolvable
        /// The connection failed after the request was (partly) sent, before the response head.
        case closedBeforeResponse
        /// No response head within `response_timeout`.
        case responseTimeout
    }

    /// Every server of the chosen pool is out (or there is none).
    case noServer(pool: String)
    /// Tries ran out; the last attempt failed this way.
    case upstream(Cause, server: String)
    /// `on_no_replica: fail` and no replica in rotation.
    case noReplica

    var status: HTTPResponseStatus {
        switch self {
        case .noServer, .noReplica: .serviceUnavailable
        case .upstream(.responseTimeout, _): .gatewayTimeout
        case .upstream: .badGateway
        }
    }

    var body: String {
        switch self {
        case .noServer(let pool): "503 Service Unavailable: no app server available in pool \(pool)\n"
        case .noReplica: "503 Service Unavailable: no replica in rotation (on_no_replica: fail)\n"
        case .upstream(.responseTimeout, let server): "504 Gateway Timeout: app server \(server) did not answer in time\n"
        case .upstream(.closedBeforeResponse, let server): "502 Bad Gateway: app server \(server) closed the connection before responding\n"
        case .upstream(_, let server): "502 Bad Gateway: could not connect to app server \(server)\n"
        }
    }
}
