import ArgumentParser
import SwitchyardApp
import SwitchyardConfig
import SwitchyardCore
import SwitchyardLogging

#if canImport(Glibc)
import Glibc
#endif

/// The `switchyard` command line (SPEC §1).
@main
struct Switchyard: AsyncParsableCommand {
    static let version = SwitchyardApp.version

    static let configuration = CommandConfiguration(
        commandName: "switchyard",
        abstract: "Read/write-splitting, replication-aware HTTP router for PostgreSQL stacks.",
        version: Switchyard.version,
        subcommands: [Serve.self, Check.self, Lag.self, Explain.self],
        defaultSubcommand: Serve.self
    )

    /// Usage errors exit 2 (SPEC §1), help and version 0, everything else as the command says.
    static func main() async {
        do {
            var command = try Switchyard.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = Switchyard.exitCode(for: error)
            if code == .success {
                Switchyard.exit(withError: error)
            }
            if let exit = error as? ExitCode {
                Glibc.exit(exit.rawValue)
            }
            if code == .validationFailure || error is ValidationError {
                FileHandleOutput.standardError(Switchyard.fullMessage(for: error) + "\n")
                Glibc.exit(2)
            }
            FileHandleOutput.standardError(Switchyard.fullMessage(for: error) + "\n")
            Glibc.exit(code.rawValue == 64 ? 2 : code.rawValue)
        }
    }
}

/// `--config FILE`, falling back to `SWITCHYARD_CONFIG`.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: $SWITCHYARD_CONFIG).")
    var config: String?

    func path() throws -> String {
        if let config = self.config, !config.isEmpty {
            return config
        }
        if let fromEnvironment = getenv("SWITCHYARD_CONFIG").map({ String(cString: $0) }), !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        throw ValidationError("no configuration file: pass --config FILE or set SWITCHYARD_CONFIG")
    }
}

enum FileHandleOutput {
    static func standardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            _ = Glibc.write(2, bytes.baseAddress, bytes.count)
        }
    }

    static func standardOutput(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            _ = Glibc.write(1, bytes.baseAddress, bytes.count)
        }
    }
}
