import SwitchyardCore
import Yams

/// YAML configuration text → validated `SwitchyardConfiguration` (SPEC §2).
///
/// Both entry points use typed throws: the only error they throw is
/// `ConfigErrors`, holding every problem found (never an empty list),
/// sorted by position, each printable as `FILE:LINE:COLUMN: message`.
/// No message ever contains a database connection string.
public enum ConfigLoader {
    /// Parses and validates YAML text. `file` is used only in messages.
    public static func parse(yaml: String, file: String) throws(ConfigErrors) -> SwitchyardConfiguration {
        let complexKeys = KeyShapeCheck.nonScalarKeys(yaml)
        guard complexKeys.isEmpty else {
            throw ConfigErrors(problems: complexKeys.map { key in
                ConfigProblem(file: file, line: key.line, column: key.column, message: "keys must be plain names, found \(key.found)")
            })
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigErrors(problems: [ConfigLoader.syntaxProblem(error, yaml: yaml, file: file)])
        }
        guard let root else {
            throw ConfigErrors(problems: [
                ConfigProblem(file: file, message: "the file is empty (it needs at least listen, primary and replicas)")
            ])
        }
        var builder = ConfigBuilder(file: file)
        let configuration = builder.configuration(from: root)
        guard let configuration, builder.problems.isEmpty else {
            var problems = ConfigLoader.sortedUnique(builder.problems)
            if problems.isEmpty {
                // Not expected: every nil result comes with a problem.
                problems = [ConfigProblem(file: file, message: "the configuration is invalid")]
            }
            throw ConfigErrors(problems: problems)
        }
        return configuration
    }

    /// Reads the file at `path` (UTF-8) and parses it. An unreadable file is
    /// one problem, `FILE: cannot read: REASON`.
    public static func load(path: String) throws(ConfigErrors) -> SwitchyardConfiguration {
        let text: String
        switch ConfigFileReader.contents(ofFile: path) {
        case let .success(contents):
            text = contents
        case let .failure(failure):
            throw ConfigErrors(problems: [ConfigProblem(file: path, message: "cannot read: \(failure.reason)")])
        }
        return try ConfigLoader.parse(yaml: text, file: path)
    }

    /// The line `switchyard check` prints for a valid file (SPEC §1). The
    /// nouns stay plural whatever the counts: the line is a contract.
    public static func summary(of configuration: SwitchyardConfiguration) -> String {
        "config ok: \(configuration.primary.servers.count) primary servers, "
            + "\(configuration.replicas.count) replicas, \(configuration.routing.rules.count) rules"
    }

    /// Sorted by line then column (positionless problems first), keeping
    /// the order of discovery among equals; exact repeats (one anchored
    /// node reached through several aliases) are dropped.
    static func sortedUnique(_ problems: [ConfigProblem]) -> [ConfigProblem] {
        var unique: [ConfigProblem] = []
        var seen = Set<ConfigProblem>()
        for problem in problems where seen.insert(problem).inserted {
            unique.append(problem)
        }
        return unique.enumerated().sorted { lhs, rhs in
            let left = (lhs.element.line ?? 0, lhs.element.column ?? 0, lhs.offset)
            let right = (rhs.element.line ?? 0, rhs.element.column ?? 0, rhs.offset)
            return left < right
        }.map(\.element)
    }
}
