import Logging
import SwitchyardCore
import SwitchyardLogging

/// Process-wide swift-log set-up: every event one structured line on stdout.
public enum LoggingBootstrap {
    public static func bootstrap(_ configuration: LogConfiguration, sink: any LogLineSink) {
        let format: LogLine.Format = configuration.format == .json ? .json : .logfmt
        let level = Logger.Level(rawValue: configuration.level.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            StructuredLogHandler(label: label, sink: sink, format: format, level: level)
        }
    }
}
