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

    public func logLine(format: LogLine.Format) -> String {
        var line = LogLine(format: format)
        line.string("ts", WallClock.iso8601(millis: self.timestampMillis))
        line.string("level", "info")
        line.string("msg", "route")
        line.string("method", self.method)
        line.string("path", self.path)
        line.string("client", self.client)
        line.string("route", self.route.rawValue)
        line.string("reason", self.reason.description)
        if self.route == .replica {
            line.optionalString("replica", self.replica)
        }
        line.optionalString("server", self.server)
        line.string("pin", self.pin.logValue)
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
        return line.finished()
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
