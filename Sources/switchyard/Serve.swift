import ArgumentParser
import Logging
import SwitchyardApp
import SwitchyardConfig
import SwitchyardCore
import SwitchyardLogging

#if canImport(Glibc)
import Glibc
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the router in the foreground (SIGHUP reloads, SIGTERM/SIGINT drain and exit 0)."
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let path = try self.options.path()
        let configuration: SwitchyardConfiguration
        do {
            configuration = try ConfigLoader.load(path: path)
        } catch {
            let first = error.problems.first.map(\.description) ?? "\(path): invalid configuration"
            let more = error.problems.count > 1 ? " (and \(error.problems.count - 1) more; run 'switchyard check')" : ""
            FileHandleOutput.standardError("switchyard: \(first)\(more)\n")
            throw ExitCode(1)
        }
        let secrets: Secrets
        do {
            secrets = try Secrets.resolve(configuration, environment: Secrets.processEnvironment())
        } catch {
            FileHandleOutput.standardError("switchyard: \(path): \(error)\n")
            throw ExitCode(1)
        }
        let sink = StandardOutputSink.shared
        LoggingBootstrap.bootstrap(configuration.log, sink: sink)
        let logger = Logger(label: "switchyard")
        // Signals are routed before listening so none is lost.
        let signals = SignalStream.make([SIGHUP, SIGTERM, SIGINT])
        let app = SwitchyardApp(configurationPath: path, configuration: configuration, secrets: secrets, decisionSink: sink, logger: logger)
        do {
            _ = try await app.start()
        } catch {
            FileHandleOutput.standardError("switchyard: cannot listen on \(configuration.listen): \(error)\n")
            await app.shutdown()
            sink.flush()
            throw ExitCode(1)
        }
        let events = signals.map { number -> SwitchyardApp.Event in number == SIGHUP ? .reload : .shutdown }
        await app.run(events: events)
        sink.flush()
    }
}
