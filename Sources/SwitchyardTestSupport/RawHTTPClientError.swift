/// Why a response body ended before its framing said it would.
public enum TruncationCause: String, Sendable {
    /// The peer closed the connection cleanly (FIN).
    case closed
    /// The peer reset the connection (RST).
    case reset
    /// Nothing arrived within the client's receive timeout.
    case timedOut
}

/// A response whose head arrived but whose body was cut short.
public struct TruncatedBody: Sendable, CustomStringConvertible {
    /// The response head, with whatever body bytes arrived (empty when the body was being discarded).
    public var response: TestResponse
    /// What the framing promised (`Content-Length`), nil for chunked or read-until-close bodies.
    public var expectedBytes: Int?
    /// Body bytes received before the end.
    public var receivedBytes: Int
    public var cause: TruncationCause

    public var description: String {
        let expected = self.expectedBytes.map { "\($0)" } ?? "unknown"
        return "response \(self.response.status) body truncated (\(self.cause.rawValue)) after \(self.receivedBytes) of \(expected) bytes"
    }
}

public enum RawHTTPClientError: Error, Sendable, CustomStringConvertible {
    case invalidAddress(host: String, port: Int)
    case connectFailed(host: String, port: Int, errno: Int32)
    case notConnected
    case sendFailed(errno: Int32, bytesSent: Int)
    /// The receive timeout expired; `bytesReceived` counts bytes of the item being waited for.
    case timedOut(waitingFor: String, bytesReceived: Int)
    /// The peer closed the connection (FIN) before the item was complete.
    case closedByPeer(waitingFor: String, bytesReceived: Int)
    /// The peer reset the connection (RST) before the item was complete.
    case connectionReset(waitingFor: String, bytesReceived: Int)
    case malformedResponse(String)
    case truncatedBody(TruncatedBody)

    /// True for a receive timeout, including a body truncated by one.
    public var isTimeout: Bool {
        switch self {
        case .timedOut: return true
        case .truncatedBody(let truncated): return truncated.cause == .timedOut
        default: return false
        }
    }

    /// True when the peer reset the connection (while reading or sending).
    public var isConnectionReset: Bool {
        switch self {
        case .connectionReset: return true
        case .truncatedBody(let truncated): return truncated.cause == .reset
        case .sendFailed(let code, _): return code == POSIXErrorCodes.connectionReset || code == POSIXErrorCodes.brokenPipe
        default: return false
        }
    }

    /// True when the peer closed the connection cleanly before the response was complete.
    public var isClosedByPeer: Bool {
        switch self {
        case .closedByPeer: return true
        case .truncatedBody(let truncated): return truncated.cause == .closed
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .invalidAddress(let host, let port):
            return "invalid address \(host):\(port)"
        case .connectFailed(let host, let port, let code):
            return "connect to \(host):\(port) failed: \(POSIXSocket.errorString(code))"
        case .notConnected:
            return "the client is not connected"
        case .sendFailed(let code, let sent):
            return "send failed after \(sent) bytes: \(POSIXSocket.errorString(code))"
        case .timedOut(let item, let received):
            return "timed out waiting for \(item) (\(received) bytes of it received)"
        case .closedByPeer(let item, let received):
            return "connection closed by peer while waiting for \(item) (\(received) bytes of it received)"
        case .connectionReset(let item, let received):
            return "connection reset by peer while waiting for \(item) (\(received) bytes of it received)"
        case .malformedResponse(let message):
            return "malformed response: \(message)"
        case .truncatedBody(let truncated):
            return truncated.description
        }
    }
}
