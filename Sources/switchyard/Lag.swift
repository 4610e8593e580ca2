import ArgumentParser
import LagMonitor
import Logging
import SwitchyardConfig
import SwitchyardCore
import SwitchyardLogging

struct Lag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Poll every database once (or every poll interval with --watch) and print its replication state.",
        discussion: "Exits 1 if a database could not be reached."
    )

    @OptionGroup var options: ConfigOption

    @Flag(help: "Poll every lag.poll_interval until interrupted.")
    var watch = false

    @Flag(help: "Print a JSON array, one object per database.")
    var json = false

    func run() async throws {
        let configuration = try loadConfiguration(self.options)
        var logger = Logger(label: "switchyard.lag") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        let monitor = LagMonitor(configuration: configuration, logger: logger)
        repeat {
            let report = await monitor.pollOnce()
            FileHandleOutput.standardOutput((self.json ? LagPrinter.json(report) : LagPrinter.table(report)) + "\n")
            if !self.watch {
                if report.all.contains(where: { !$0.reachable }) {
                    throw ExitCode(1)
                }
                return
            }
            try await Task.sleep(for: configuration.lag.pollInterval)
        } while true
    }
}

func loadConfiguration(_ options: ConfigOption) throws -> SwitchyardConfiguration {
    let path = try options.path()
    do {
        return try ConfigLoader.load(path: path)
    } catch {
        for problem in error.problems {
            FileHandleOutput.standardError(problem.description + "\n")
        }
        throw ExitCode(1)
    }
}

enum LagPrinter {
    static func table(_ report: LagReport) -> String {
        let header = ["NAME", "ROLE", "REACHABLE", "IN RECOVERY", "REPLAY LSN", "LAG BYTES", "LAG S", "VERDICT"]
        var rows = [header]
        for status in report.all {
            rows.append([
                status.name,
                status.role.rawValue,
                status.reachable ? "yes" : "no",
                status.inRecovery.map { $0 ? "yes" : "no" } ?? "-",
                (status.role == .primary ? status.currentLSN : status.replayLSN)?.description ?? "-",
                status.lagBytes.map(String.init) ?? "-",
                status.lagSeconds.map { format($0) } ?? "-",
                status.verdict + (status.error.map { " (\($0))" } ?? ""),
            ])
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < header.count - 1 {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func json(_ report: LagReport) -> String {
        "[" + report.all.map(self.object).joined(separator: ",") + "]"
    }

    static func object(_ status: DatabaseStatus) -> String {
        var line = LogLine(format: .json)
        line.string("name", status.name)
        line.string("role", status.role.rawValue)
        line.bool("reachable", status.reachable)
        if let inRecovery = status.inRecovery { line.bool("in_recovery", inRecovery) } else { line.null("in_recovery") }
        if status.role == .primary {
            line.null("replay_lsn")
            line.optionalString("current_lsn", status.currentLSN?.description)
        } else {
            line.optionalString("replay_lsn", status.replayLSN?.description)
        }
        if let bytes = status.lagBytes { line.uint("lag_bytes", bytes) } else { line.null("lag_bytes") }
        if let seconds = status.lagSeconds { line.double("lag_s", seconds) } else { line.null("lag_s") }
        line.bool("in_rotation", status.role == .primary ? status.reachable && status.inRecovery == false : status.inRotation)
        if status.role == .primary {
            if !status.reachable {
                line.string("cause", "unreachable")
            } else if status.inRecovery == true {
                line.string("cause", "in-recovery")
            } else {
                line.null("cause")
            }
        } else {
            line.optionalString("cause", status.cause?.rawValue)
        }
        line.optionalString("error", status.error)
        line.double("poll_ms", status.pollSeconds * 1000)
        return line.finished()
    }

    static func format(_ value: Double) -> String {
        var bytes: [UInt8] = []
        LogLine.appendDecimal(value, decimals: 3, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
