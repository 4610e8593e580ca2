/// One problem found in a configuration file.
///
/// `description` is the line `switchyard check` prints (SPEC §1):
/// `FILE:LINE:COLUMN: message`, or `FILE: message` when no position applies.
/// LINE and COLUMN are 1-based; COLUMN counts Unicode scalars, as libyaml does.
public struct ConfigProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path of the file as the user gave it.
    public var file: String
    /// 1-based line, or nil when the problem concerns the whole file.
    public var line: Int?
    /// 1-based column, or nil when the problem concerns the whole file.
    public var column: Int?
    /// What is wrong. Never contains a database connection string.
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        switch (self.line, self.column) {
        case let (.some(line), .some(column)):
            return "\(self.file):\(line):\(column): \(self.message)"
        case let (.some(line), .none):
            return "\(self.file):\(line): \(self.message)"
        case (.none, _):
            return "\(self.file): \(self.message)"
        }
    }
}
