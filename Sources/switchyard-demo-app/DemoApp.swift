import ArgumentParser
import DemoAppKit
import Logging
import SwitchyardLogging
#if canImport(Glibc)
import Glibc
#endif

/// `switchyard-demo-app --name app-p1 --listen 127.0.0.1:8001 --database "host=... dbname=app"`
/// (or `DATABASE_URL`): the demo's app server.
@main
struct DemoApp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard-demo-app",
        abstract: "A small PostgreSQL-backed HTTP app server for the Switchyard demo."
    )

    @Option(help: "A name for X-App-Server.")
    var name: String = "app"

    @Option(help: "host:port to listen on.")
    var listen: String = "127.0.0.1:8001"

    @Option(help: "libpq conninfo or URI (default: $DATABASE_URL).")
    var database: String?

    @Flag(help: "Return X-Switchyard-LSN (pg_current_wal_insert_lsn() after the commit) on writes.")
    var reportLSN = false

    func run() async throws {
        let database = self.database ?? Secrets.environment("DATABASE_URL")
        guard let database, !database.isEmpty else {
            throw ValidationError("no database: pass --database or set DATABASE_URL")
        }
        guard let colon = self.listen.lastIndex(of: ":"), let port = Int(self.listen[self.listen.index(after: colon)...]) else {
            throw ValidationError("--listen takes host:port")
        }
        let sink = StandardOutputSink.shared
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, sink: sink, format: .json, level: .info) }
        let logger = Logger(label: "switchyard.demo-app")
        let server = try await DemoAppServer.start(
            DemoAppServer.Configuration(
                name: self.name, host: String(self.listen[..<colon]), port: port, database: database, reportLSN: self.reportLSN))
        logger.info("demo app listening", metadata: ["name": "\(self.name)", "port": "\(server.port)", "report_lsn": "\(self.reportLSN)"])
        // Runs until killed (the demo stops it by pid).
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(3600))
        }
        await server.stop()
    }
}

enum Secrets {
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
