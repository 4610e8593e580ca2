import Foundation
import SwitchyardCore
import SwitchyardLogging
import Testing

@testable import HTTPProxy

/// The decision line (SPEC §5) is written from fixed literals with the values
/// between them; these tests hold it to the line the keyed `LogLine` methods
/// build field by field, in both formats, for every shape a record takes.
@Suite("Decision log line")
struct DecisionLineTests {
    @Test("a JSON line, byte for byte")
    func jsonLine() {
        let record = Self.record(route: .replica, reason: .read, replica: "replica-a", lag: 0.25, server: "127.0.0.1:9001")
        let line = String(decoding: record.logBytes(format: .json), as: UTF8.self)
        #expect(
            line
                == #"{"ts":"2026-12-06T01:02:03.456Z","level":"info","msg":"route","method":"GET","path":"/items/1","client":"10.0.0.7","route":"replica","reason":"read","replica":"replica-a","server":"127.0.0.1:9001","pin":"none","lag_s":0.25,"status":200,"attempts":1,"duration_ms":1.5,"pin_set":false}"#
        )
    }

    @Test("a logfmt line, byte for byte")
    func logfmtLine() {
        let record = Self.record(
            method: "POST", path: "/a b", route: .primary, reason: .write, server: nil, pin: .valid(PinToken(issuedAtMillis: 1)), status: 502, attempts: 2, pinSet: true)
        let line = String(decoding: record.logBytes(format: .logfmt), as: UTF8.self)
        #expect(
            line
                == #"ts=2026-12-06T01:02:03.456Z level=info msg=route method=POST path="/a b" client=10.0.0.7 route=primary reason=write server= pin=valid status=502 attempts=2 duration_ms=1.5 pin_set=true"#
        )
    }

    @Test("every shape of record matches the field-by-field line", arguments: [LogLine.Format.json, .logfmt])
    func matchesKeyedLine(format: LogLine.Format) throws {
        let reasons: [RouteReason] = [.write, .read, .pinned, .pinCaughtUp, .noReplica, .rule("api"), .rule(#"odd "rule"\ x=y"#)]
        let pins: [PinStatus] = [.none, .valid(PinToken(issuedAtMillis: 1, lsn: LSN(7))), .expired, .invalid]
        let strings = ["", "/", "/a b=c", #"/q"uote\back"#, "/tab\there\u{1}", "/ünïcode"]
        var storage: [UInt8] = []
        // And appended to one batch, as an event loop gathers its lines for the sink.
        var batch: [UInt8] = []
        var expectedBatch: [UInt8] = []
        // And through an event loop's scratch memory: one line fits in the
        // large one; the small one sends every line to temporary memory.
        let scratches = [
            UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8),
            UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8),
        ]
        defer { scratches.forEach { $0.deallocate() } }
        var scratchBatches: [[UInt8]] = [[], []]
        var timestamps = TimestampCache()
        var checked = 0
        for route in Route.allCases {
            for reason in reasons {
                for pin in pins {
                    for (index, text) in strings.enumerated() {
                        let record = Self.record(
                            method: index == 0 ? "GET" : "M\(text)", path: text, client: strings[(index + 1) % strings.count],
                            route: route, reason: reason, replica: index % 2 == 0 ? nil : "replica-\(text)",
                            lag: index % 3 == 0 ? nil : Double(index) * -0.125, server: index % 2 == 1 ? nil : "s\(text)",
                            pin: pin, status: 100 + index, attempts: index, duration: Double(index) * 0.0004567, pinSet: index % 2 == 0)
                        // Built in the array the last line used, as the handler does.
                        storage = record.logBytes(format: format, reusing: consume storage)
                        #expect(storage == Self.keyedLine(record, format: format))
                        record.appendLogLine(format: format, to: &batch, timestamps: &timestamps)
                        for index in scratches.indices {
                            record.appendLogLine(
                                format: format, to: &scratchBatches[index], timestamps: &timestamps, scratch: scratches[index])
                        }
                        expectedBatch += Self.keyedLine(record, format: format) + [UInt8(ascii: "\n")]
                        if format == .json {
                            // Every line is one JSON object.
                            let object = try JSONSerialization.jsonObject(with: Data(storage)) as? [String: Any]
                            #expect(object?["path"] as? String == text)
                            #expect(object?["reason"] as? String == reason.description)
                        }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == 2 * 7 * 4 * 6)
        #expect(batch == expectedBatch)
        #expect(scratchBatches == [expectedBatch, expectedBatch])
    }

    @Test("a line of the longest escapes is written whole", arguments: [LogLine.Format.json, .logfmt])
    func longestEscapes(format: LogLine.Format) throws {
        // Every byte a control byte: each is escaped as six (`\u00XX`), the
        // most a string value can grow.
        let controls = String(repeating: "\u{1}", count: 3000)
        let record = Self.record(
            method: controls, path: controls, client: controls, route: .replica, reason: .rule(controls), replica: controls,
            lag: -1.0e300, server: controls, status: Int.min, attempts: Int.max, duration: 1.0e300)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
        defer { scratch.deallocate() }
        var timestamps = TimestampCache()
        var batch: [UInt8] = []
        record.appendLogLine(format: format, to: &batch, timestamps: &timestamps, scratch: scratch)
        let expected = Self.keyedLine(record, format: format)
        #expect(batch == expected + [UInt8(ascii: "\n")])
        #expect(record.logBytes(format: format) == expected)
        if format == .json {
            let object = try JSONSerialization.jsonObject(with: Data(expected)) as? [String: Any]
            #expect(object?["path"] as? String == controls)
        }
    }

    // MARK: Helpers

    static func record(
        method: String = "GET", path: String = "/items/1", client: String = "10.0.0.7", route: Route, reason: RouteReason,
        replica: String? = nil, lag: Double? = nil, server: String?, pin: PinStatus = .none, status: Int = 200, attempts: Int = 1,
        duration: Double = 0.0015, pinSet: Bool = false
    ) -> DecisionRecord {
        DecisionRecord(
            timestampMillis: 1_796_518_923_456, method: method, path: path, client: client, route: route, reason: reason,
            replica: replica, lagSeconds: lag, server: server, pin: pin, status: status, attempts: attempts,
            durationSeconds: duration, pinSet: pinSet)
    }

    /// The line SPEC §5 describes, one keyed field at a time.
    static func keyedLine(_ record: DecisionRecord, format: LogLine.Format) -> [UInt8] {
        var line = LogLine(format: format)
        line.timestamp("ts", millis: record.timestampMillis)
        line.plain("level", "info")
        line.plain("msg", "route")
        line.string("method", record.method)
        line.string("path", record.path)
        line.string("client", record.client)
        line.string("route", record.route.rawValue)
        line.string("reason", record.reason.description)
        if record.route == .replica {
            line.optionalString("replica", record.replica)
        }
        line.optionalString("server", record.server)
        line.string("pin", record.pin.logValue)
        if record.route == .replica {
            if let lag = record.lagSeconds {
                line.double("lag_s", lag)
            } else {
                line.null("lag_s")
            }
        }
        line.int("status", record.status)
        line.int("attempts", record.attempts)
        line.double("duration_ms", record.durationSeconds * 1000, decimals: 3)
        line.bool("pin_set", record.pinSet)
        return line.takeBytes()
    }
}
