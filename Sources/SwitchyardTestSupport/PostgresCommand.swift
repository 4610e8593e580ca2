/// One external command run by the PostgreSQL fixture (see ``PostgresProcessRunner``).
struct PostgresCommand: Sendable {
    /// Absolute path of the program to execute.
    var executable: String
    /// The arguments, without argv[0].
    var arguments: [String]
    /// The complete environment of the child (nothing is inherited from the test process).
    var environment: [String: String]
    /// The child's working directory. It must be accessible to the user the child runs as.
    var workingDirectory: String?
    /// Fed to the child's stdin (from an unlinked temporary file); `/dev/null` when nil.
    var standardInput: String?
    /// The child (and its process group) is killed with SIGKILL when it runs longer than this.
    var timeout: Duration
    /// A short human-readable form of the command for logs and errors (e.g. `pg_ctl start -D ...`).
    var displayName: String
}

/// How a ``PostgresCommand`` ended.
struct PostgresCommandResult: Sendable {
    enum Termination: Sendable, Hashable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let code):
                return "exit status \(code)"
            case .signaled(let signal):
                return "killed by signal \(signal)"
            }
        }
    }

    var termination: Termination
    var standardOutput: String
    var standardError: String
    var duration: Duration

    var succeeded: Bool {
        self.termination == .exited(0)
    }
}
