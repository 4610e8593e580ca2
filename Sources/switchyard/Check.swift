import ArgumentParser
import SwitchyardConfig

#if canImport(Glibc)
import Glibc
#endif

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a configuration file without serving.",
        discussion: "Prints 'config ok: ...' and exits 0, or every problem as FILE:LINE:COLUMN: message on stderr and exits 1."
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        let path = try self.options.path()
        do {
            let configuration = try ConfigLoader.load(path: path)
            FileHandleOutput.standardOutput(ConfigLoader.summary(of: configuration) + "\n")
        } catch {
            for problem in error.problems {
                FileHandleOutput.standardError(problem.description + "\n")
            }
            throw ExitCode(1)
        }
    }
}
