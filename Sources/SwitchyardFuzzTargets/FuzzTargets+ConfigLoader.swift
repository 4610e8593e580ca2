import SwitchyardConfig
import SwitchyardCore

extension FuzzTargets {
    /// The bytes as YAML text (invalid UTF-8 replaced, as a reader would
    /// not: `ConfigFileReader` refuses such files) through `ConfigLoader.parse`.
    ///
    /// Invariants: a configuration has a primary server, a replica and
    /// unique replica names; otherwise there is at least one problem, each a
    /// single line naming the file, with a line and column that lie within
    /// the text; parsing is deterministic.
    public static func configLoader(_ bytes: UnsafeRawBufferPointer) throws(FuzzFailure) {
        let target = FuzzTarget.configLoader
        let text = String(decoding: bytes, as: UTF8.self)
        // The length in unicode scalars of each line, lines ending where libyaml
        // sees a break: CR LF, CR, LF, NEL, LS or PS.
        var lineLengths = [0]
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n" where previousWasCR:
                break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                lineLengths.append(0)
            default:
                lineLengths[lineLengths.count - 1] += 1
            }
            previousWasCR = scalar == "\r"
        }
        let file = "fuzz.yaml"
        let first = Self.outcome(text, file: file)
        switch first {
        case let .success(configuration):
            try FuzzFailure.check(!configuration.primary.servers.isEmpty, target, "a configuration without primary servers")
            try FuzzFailure.check(!configuration.replicas.isEmpty, target, "a configuration without replicas")
            try FuzzFailure.check(
                configuration.replicas.count <= ReplicaSet.maximumCount,
                target,
                "\(configuration.replicas.count) replicas accepted; the router can use \(ReplicaSet.maximumCount)"
            )
            let names = configuration.replicas.map(\.name)
            try FuzzFailure.check(Set(names).count == names.count, target, "duplicate replica names accepted: \(names)")
            try FuzzFailure.check(!names.contains("primary"), target, "a replica named primary accepted")
            for replica in configuration.replicas {
                try FuzzFailure.check(!replica.servers.isEmpty, target, "replica \(replica.name) without servers")
            }
            let ruleNames = configuration.routing.rules.map(\.name)
            try FuzzFailure.check(Set(ruleNames).count == ruleNames.count, target, "duplicate rule names accepted: \(ruleNames)")
            for rule in configuration.routing.rules {
                try FuzzFailure.check(rule.match != RuleMatch(), target, "rule \(rule.name) without a condition accepted")
            }
            let summary = ConfigLoader.summary(of: configuration)
            try FuzzFailure.check(summary.hasPrefix("config ok: "), target, "summary \(summary)")
        case let .failure(errors):
            try FuzzFailure.check(!errors.problems.isEmpty, target, "ConfigErrors without a problem")
            for problem in errors.problems {
                let line = problem.description
                try FuzzFailure.check(line.hasPrefix("\(file):"), target, "problem line not starting with the file: \(line)")
                try FuzzFailure.check(
                    !line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F },
                    target,
                    "problem line with a control character (not one line): \(line.debugDescription)"
                )
                if let position = problem.line {
                    try FuzzFailure.check(
                        position >= 1 && position <= lineLengths.count, target,
                        "line \(position) outside the text's 1...\(lineLengths.count): \(line)")
                    if let column = problem.column {
                        let length = lineLengths[position - 1]
                        try FuzzFailure.check(
                            column >= 1 && column <= length + 1, target,
                            "column \(column) outside line \(position)'s 1...\(length + 1): \(line)")
                    }
                }
            }
        }
        let second = Self.outcome(text, file: file)
        switch (first, second) {
        case let (.success(lhs), .success(rhs)):
            try FuzzFailure.check(lhs == rhs, target, "two parses of the same text differ")
        case let (.failure(lhs), .failure(rhs)):
            try FuzzFailure.check(
                lhs.problems == rhs.problems,
                target,
                "two parses of the same text report different problems"
            )
        case (.success, .failure), (.failure, .success):
            throw FuzzFailure(target: target.rawValue, message: "two parses of the same text disagree on validity")
        }
    }

    private static func outcome(_ text: String, file: String) -> Result<SwitchyardConfiguration, ConfigErrors> {
        do throws(ConfigErrors) {
            return .success(try ConfigLoader.parse(yaml: text, file: file))
        } catch {
            return .failure(error)
        }
    }
}
