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

    // No initializer is written in here, so the memberwise one exists (this
    // module's, the request path's): it builds the record where it goes. One
    // written out (`self.field = field` for each) built it on the stack and
    // returned a copy, then destroyed the original: every field copied and
    // destroyed once more per request (seen in the release build's code).

    public func logLine(format: LogLine.Format) -> String {
        String(decoding: self.logBytes(format: format), as: UTF8.self)
    }

    /// The line as UTF-8 bytes (no String is built), in `storage` when given
    /// (its old contents are dropped).
    ///
    /// The keys are fixed, so each run of keys, separators and constant
    /// values between two variable values goes out as one literal of the
    /// line's format: no key is scanned for escapes and no separator is
    /// decided per field. `DecisionLineTests` holds it to the line the keyed
    /// `LogLine` methods build field by field.
    public func logBytes(format: LogLine.Format, reusing storage: consuming [UInt8] = []) -> [UInt8] {
        var timestamps = TimestampCache()
        return self.logBytes(format: format, reusing: storage, timestamps: &timestamps)
    }

    /// The same, stamped through `timestamps` (the request path keeps one per
    /// event loop: the date and time are formatted once a second).
    public func logBytes(format: LogLine.Format, reusing storage: consuming [UInt8], timestamps: inout TimestampCache) -> [UInt8] {
        var bytes = storage
        bytes.removeAll(keepingCapacity: true)
        self.withLine(format: format, newline: false, timestamps: &timestamps) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Appends the line and a newline to `batch` (an event loop's lines not
    /// yet handed to the sink): written into temporary memory, then copied
    /// in one piece.
    public func appendLogLine(format: LogLine.Format, to batch: inout [UInt8], timestamps: inout TimestampCache) {
        self.withLine(format: format, newline: true, timestamps: &timestamps) { batch.append(contentsOf: $0) }
    }

    /// The same, written into `scratch` (the event loop's, reused by every
    /// line) when the line surely fits: no closure, so the record is not
    /// copied into one (a retain and a release for each of its strings).
    public func appendLogLine(
        format: LogLine.Format, to batch: inout [UInt8], timestamps: inout TimestampCache, scratch: UnsafeMutableRawBufferPointer
    ) {
        if self.lineBound <= scratch.count,
            let line = self.line(in: scratch, format: format, newline: true, timestamps: &timestamps)
        {
            batch.append(contentsOf: line)
            return
        }
        self.appendLogLine(format: format, to: &batch, timestamps: &timestamps)
    }

    /// Calls `body` with the line's bytes, written into temporary memory
    /// (the stack, for any line under 1 KiB) sized by `lineBound`. Should a
    /// line not fit, it is written again into twice the room: never cut.
    private func withLine(
        format: LogLine.Format, newline: Bool, timestamps: inout TimestampCache, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        var capacity = self.lineBound
        while true {
            let written = withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { memory -> Bool in
                guard let line = self.line(in: memory, format: format, newline: newline, timestamps: &timestamps) else {
                    return false
                }
                body(line)
                return true
            }
            if written { return }
            capacity *= 2
        }
    }

    /// The whole line (and a newline, when asked) written at the start of
    /// `memory`, or nil when it does not fit.
    private func line(
        in memory: UnsafeMutableRawBufferPointer, format: LogLine.Format, newline: Bool, timestamps: inout TimestampCache
    ) -> UnsafeRawBufferPointer? {
        var line = LogLineCursor(format: format, into: memory)
        self.write(to: &line, timestamps: &timestamps)
        line.finish()
        if newline {
            line.put(UInt8(ascii: "\n"))
        }
        return line.overflowed ? nil : line.bytes
    }

    /// Room for the line: its fixed text and numbers take under 512 bytes,
    /// and a string value at most six bytes per byte of it (a control byte
    /// escaped as `\u00XX`).
    private var lineBound: Int {
        var strings = self.method.utf8.count + self.path.utf8.count + self.client.utf8.count
        strings += (self.replica?.utf8.count ?? 0) + (self.server?.utf8.count ?? 0)
        if case .rule(let name) = self.reason {
            strings += name.utf8.count
        }
        return 512 + 6 * strings
    }

    private func write(to line: inout LogLineCursor, timestamps: inout TimestampCache) {
        let json = line.format == .json
        line.literal(json ? #""ts":"# : "ts=")
        line.timestampValue(millis: self.timestampMillis, cache: &timestamps)
        line.literal(json ? #","level":"info","msg":"route","method":"# : " level=info msg=route method=")
        line.stringValue(self.method)
        line.literal(json ? #","path":"# : " path=")
        line.stringValue(self.path)
        line.literal(json ? #","client":"# : " client=")
        line.stringValue(self.client)
        switch self.route {
        case .primary: line.literal(json ? #","route":"primary","reason":"# : " route=primary reason=")
        case .replica: line.literal(json ? #","route":"replica","reason":"# : " route=replica reason=")
        }
        switch self.reason {
        case .write: line.literal(json ? #""write""# : "write")
        case .read: line.literal(json ? #""read""# : "read")
        case .pinned: line.literal(json ? #""pinned""# : "pinned")
        case .pinCaughtUp: line.literal(json ? #""pin-caught-up""# : "pin-caught-up")
        case .noReplica: line.literal(json ? #""no-replica""# : "no-replica")
        case .rule: line.stringValue(self.reason.description)
        }
        if self.route == .replica {
            line.literal(json ? #","replica":"# : " replica=")
            if let replica = self.replica { line.stringValue(replica) } else { line.nullValue() }
        }
        line.literal(json ? #","server":"# : " server=")
        if let server = self.server { line.stringValue(server) } else { line.nullValue() }
        switch self.pin {
        case .none: line.literal(json ? #","pin":"none""# : " pin=none")
        case .valid: line.literal(json ? #","pin":"valid""# : " pin=valid")
        case .expired: line.literal(json ? #","pin":"expired""# : " pin=expired")
        case .invalid: line.literal(json ? #","pin":"invalid""# : " pin=invalid")
        }
        if self.route == .replica {
            line.literal(json ? #","lag_s":"# : " lag_s=")
            if let lag = self.lagSeconds { line.decimalValue(lag) } else { line.nullValue() }
        }
        line.literal(json ? #","status":"# : " status=")
        line.intValue(self.status)
        line.literal(json ? #","attempts":"# : " attempts=")
        line.intValue(self.attempts)
        line.literal(json ? #","duration_ms":"# : " duration_ms=")
        line.decimalValue(self.durationSeconds * 1000, decimals: 3)
        line.literal(self.pinSet ? (json ? #","pin_set":true"# : " pin_set=true") : (json ? #","pin_set":false"# : " pin_set=false"))
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

extension DecisionRecord {
    /// A record, for the package's other modules (the memberwise initializer
    /// is internal to this one).
    package static func make(
        timestampMillis: UInt64, method: String, path: String, client: String, route: Route, reason: RouteReason,
        replica: String? = nil, lagSeconds: Double? = nil, server: String? = nil, pin: PinStatus, status: Int,
        attempts: Int, durationSeconds: Double, pinSet: Bool
    ) -> DecisionRecord {
        DecisionRecord(
            timestampMillis: timestampMillis, method: method, path: path, client: client, route: route, reason: reason,
            replica: replica, lagSeconds: lagSeconds, server: server, pin: pin, status: status, attempts: attempts,
            durationSeconds: durationSeconds, pinSet: pinSet)
    }
}
