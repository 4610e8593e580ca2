#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A process, identified by its pid and its start time (field 22 of `/proc/PID/stat`), so that a pid the
/// kernel reused for another process is never mistaken for one of ours.
public struct PostgresProcessIdentity: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var startTime: UInt64

    /// True while the process exists, is this same process and is not a zombie (`<defunct>` entries
    /// that init has not reaped yet count as gone).
    public var isRunning: Bool {
        PostgresProcessTree.isRunning(self)
    }

    /// True while the process exists and is stopped (SIGSTOP, state `T`).
    public var isStopped: Bool {
        PostgresProcessTree.isStopped(self)
    }

    public var description: String {
        "\(self.pid)"
    }
}

/// The postmaster of a data directory and its children, read from `postmaster.pid` and `/proc` (Linux).
enum PostgresProcessTree {
    /// The postmaster of `dataDirectory`: the pid on the first line of `postmaster.pid`, accepted only
    /// when that process is alive and its command line names `dataDirectory` (so it is ours).
    static func postmaster(of dataDirectory: String) -> PostgresProcessIdentity? {
        guard let text = ProcessMemory.readSmallFile(dataDirectory + "/postmaster.pid"),
            let firstLine = text.split(separator: "\n").first,
            let pid = Int32(firstLine.trimmingWhitespace()), pid > 0,
            let identity = self.identity(of: pid),
            let commandLine = self.commandLine(of: pid),
            commandLine.contains(dataDirectory)
        else { return nil }
        return identity
    }

    /// The postmaster of `dataDirectory` followed by all its direct children (backends, walreceiver...).
    static func tree(of dataDirectory: String) -> [PostgresProcessIdentity] {
        guard let postmaster = self.postmaster(of: dataDirectory) else { return [] }
        return [postmaster] + self.children(of: postmaster.pid)
    }

    /// The live, non-zombie process `pid`, or nil.
    static func identity(of pid: Int32) -> PostgresProcessIdentity? {
        guard let stat = self.stat(of: pid), stat.state != "Z", stat.state != "X" else { return nil }
        return PostgresProcessIdentity(pid: pid, startTime: stat.startTime)
    }

    /// True while the process exists, is the same process (start time) and is not a zombie.
    static func isRunning(_ process: PostgresProcessIdentity) -> Bool {
        self.identity(of: process.pid) == process
    }

    /// True when the process exists and is stopped (state `T`).
    static func isStopped(_ process: PostgresProcessIdentity) -> Bool {
        guard let stat = self.stat(of: process.pid), stat.startTime == process.startTime else { return false }
        return stat.state == "T"
    }

    /// Sends `signal` to each process that is still the same process. Returns those that were signalled.
    @discardableResult
    static func send(_ signal: Int32, to processes: [PostgresProcessIdentity]) -> [PostgresProcessIdentity] {
        processes.filter { process in
            self.isRunning(process) && kill(process.pid, signal) == 0
        }
    }

    /// Live, non-zombie children of `parent` (the `pgrep -P` of /proc).
    static func children(of parent: Int32) -> [PostgresProcessIdentity] {
        #if os(Linux)
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var result: [PostgresProcessIdentity] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name), let stat = self.stat(of: pid), stat.parent == parent,
                stat.state != "Z", stat.state != "X"
            else { continue }
            result.append(PostgresProcessIdentity(pid: pid, startTime: stat.startTime))
        }
        return result.sorted { $0.pid < $1.pid }
        #else
        return []
        #endif
    }

    struct Stat {
        var state: Character
        var parent: Int32
        var startTime: UInt64
    }

    /// Parses `/proc/PID/stat`: `pid (comm) state ppid ... starttime(22) ...`; comm may hold spaces and parentheses.
    static func stat(of pid: Int32) -> Stat? {
        guard let text = ProcessMemory.readSmallFile("/proc/\(pid)/stat"),
            let closing = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: closing)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state), so field N is fields[N - 3].
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]),
            let startTime = UInt64(fields[19])
        else { return nil }
        return Stat(state: state, parent: parent, startTime: startTime)
    }

    /// `/proc/PID/cmdline` with the NUL separators turned into spaces.
    static func commandLine(of pid: Int32) -> String? {
        guard let text = ProcessMemory.readSmallFile("/proc/\(pid)/cmdline"), !text.isEmpty else { return nil }
        return String(text.map { $0 == "\0" ? " " : $0 })
    }
}
