import Foundation
import Synchronization

/// The counted figures of each scenario, one JSON object per line, appended to the file named by
/// `SWITCHYARD_RELIABILITY_REPORT` (deploy/reliability/run.sh turns it into the README table).
/// Without the variable nothing is written.
enum ReliabilityReport {
    private static let lock = Mutex(())

    /// - Parameters:
    ///   - fault: the scenario, e.g. "replica app server killed and restarted".
    ///   - measured: what was measured, in words.
    ///   - result: the figures, in words ("0 failed of 12 345 GETs").
    ///   - figures: the same as numbers, for machines.
    static func record(test: String, fault: String, measured: String, result: String, figures: [String: Double] = [:]) {
        let line = Self.jsonLine(test: test, fault: fault, measured: measured, result: result, figures: figures)
        print("[reliability] \(fault): \(result)")
        guard let path = ProcessInfo.processInfo.environment["SWITCHYARD_RELIABILITY_REPORT"], !path.isEmpty else { return }
        Self.lock.withLock { _ in
            guard let handle = FileHandle(forWritingAtPath: path) ?? Self.create(path) else { return }
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data((line + "\n").utf8))
        }
    }

    private static func create(_ path: String) -> FileHandle? {
        guard FileManager.default.createFile(atPath: path, contents: nil) else { return nil }
        return FileHandle(forWritingAtPath: path)
    }

    static func jsonLine(test: String, fault: String, measured: String, result: String, figures: [String: Double]) -> String {
        var object: [String: Any] = [
            "test": test, "fault": fault, "measured": measured, "result": result,
            "scale": ReliabilityScale.current.name,
        ]
        object["figures"] = figures
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func ms(_ value: Double?) -> String {
        value.map { String(format: "%.1f ms", $0) } ?? "-"
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
