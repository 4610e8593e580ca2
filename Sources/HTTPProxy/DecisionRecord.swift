import SwitchyardCore
import SwitchyardLogging

/// One proxied request as the decision log (SPEC §5) and the metrics see it.
public struct DecisionRecord: Sendable {
    public var timestampMillis: UInt64
    public var method: String
    public var path: String
    public var client: String
    public var route: Route
    public var reason: RouteReason
    public var replica: String?
    public var lagSeconds: Double?
    public var server: String?
    public var pin: PinStatus
    public var status: Int
    public var attempts: Int
    public var durationSeconds: Double
    public var pinSet: Bool

    package init(
        timestampMillis: UInt64, method: String, path: String, client: String, route: Route, reason: RouteReason,
        replica: String? = nil, lagSeconds: Double? = nil, server: String? = nil, pin: PinStatus, status: Int,
        attempts: Int, durationSeconds: Double, pinSet: Bool
    ) {
        self.timestampMillis = timestampMillis
        self.method = method
        self.path = path
        self.client = client
        self.route = route
        self.reason = reason
        self.replica = replica
        self.lagSeconds = lagSeconds
        self.server = server
        self.pin = pin
        self.status = status
        self.attempts = attempts
        self.durationSeconds = durationSeconds
        self.pinSet = pinSet
    }

    public func logLine(format: LogLine.Format) -> String {
        String(decoding: self.logBytes(format: format), as: UTF8.self)
    }

    /// The line as UTF-8 bytes (what the request path writes: no String is
    /// built), in `storage` when given (its old contents are dropped).
    public func logBytes(format: LogLine.Format, reusing storage: consuming [UInt8] = []) -> [UInt8] {
        var line = LogLine(format: format, reusing: consume storage)
        line.timestamp("ts", millis: self.timestampMillis)
        line.plain("level", "info")
        line.plain("msg", "route")
        line.string("method", self.method)
        line.string("path", self.path)
        line.string("client", self.client)
        line.string("route", self.route.rawValue)
        switch self.reason {
        case .write: line.plain("reason", "write")
        case .read: line.plain("reason", "read")
        case .pinned: line.plain("reason", "pinned")
        case .pinCaughtUp: line.plain("reason", "pin-caught-up")
        case .noReplica: line.plain("reason", "no-replica")
        case .rule: line.string("reason", self.reason.description)
        }
        if self.route == .replica {
            line.optionalString("replica", self.replica)
        }
        line.optionalString("server", self.server)
        switch self.pin {
        case .none: line.plain("pin", "none")
        case .valid: line.plain("pin", "valid")
        case .expired: line.plain("pin", "expired")
        case .invalid: line.plain("pin", "invalid")
        }
        if self.route == .replica {
            if let lag = self.lagSeconds {
                line.double("lag_s", lag)
            } else {
                line.null("lag_s")
            }
        }
        line.int("status", self.status)
        line.int("attempts", self.attempts)
        line.double("duration_ms", self.durationSeconds * 1000, decimals: 3)
        line.bool("pin_set", self.pinSet)
        return line.takeBytes()
    }

    /// The `X-Switchyard-Decision` header value.
    public var headerValue: String {
        var value = "route=\(self.route.rawValue); reason=\(self.reason)"
        if self.route == .replica, let replica = self.replica {
            value += "; replica=\(replica)"
        }
        value += "; server=\(self.server ?? "none"); pin=\(self.pin.logValue)"
        return value
    }
}
