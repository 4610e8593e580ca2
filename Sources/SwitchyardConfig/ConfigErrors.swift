/// Every problem found in one configuration file, sorted by position
/// (problems without a position first). Never empty when thrown.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    /// One problem per line, as `switchyard check` prints them.
    public var description: String {
        self.problems.map(\.description).joined(separator: "\n")
    }
}
