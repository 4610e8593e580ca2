import Logging

/// A swift-log handler writing one JSON or logfmt line per event:
/// `ts`, `level`, `msg`, then the metadata fields in key order.
public struct StructuredLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let sink: any LogLineSink
    private let format: LogLine.Format

    public init(label: String, sink: any LogLineSink, format: LogLine.Format, level: Logger.Level) {
        self.label = label
        self.sink = sink
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = LogLine(format: self.format)
        line.timestamp("ts", millis: WallClock.nowMillis())
        line.string("level", event.level.rawValue)
        line.string("msg", event.message.description)
        var merged = self.metadata
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            StructuredLogHandler.append(value, key: key, to: &line)
        }
        self.sink.write(bytes: line.takeBytes())
    }

    private static func append(_ value: Logger.Metadata.Value, key: String, to line: inout LogLine) {
        switch value {
        case .string(let text):
            line.string(key, text)
        case .stringConvertible(let convertible):
            if let number = convertible as? Double {
                line.double(key, number)
            } else if let number = convertible as? Int {
                line.int(key, number)
            } else if let number = convertible as? UInt64 {
                line.uint(key, number)
            } else if let flag = convertible as? Bool {
                line.bool(key, flag)
            } else {
                line.string(key, convertible.description)
            }
        case .array, .dictionary:
            line.string(key, value.description)
        }
    }
}
