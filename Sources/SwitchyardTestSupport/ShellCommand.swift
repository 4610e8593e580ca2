#if canImport(Glibc)
import Glibc
#endif

/// Runs a script or program for a test (deploy/ scripts, validators), bounded
/// in time, with the test process's environment plus `environment`.
public enum ShellCommand {
    /// Runs `arguments[0]` with the rest as arguments; returns its exit status and
    /// its stdout followed by its stderr. A run past `timeout` is killed (status -1).
    public static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration) async throws -> (status: Int32, output: String) {
        guard let executable = arguments.first else { return (-1, "no command") }
        var merged = self.processEnvironment()
        merged.merge(environment) { _, new in new }
        let result = try await PostgresProcessRunner.run(
            PostgresCommand(
                executable: executable, arguments: Array(arguments.dropFirst()), environment: merged, workingDirectory: nil,
                standardInput: nil, timeout: timeout, displayName: arguments.joined(separator: " ")))
        let status: Int32
        switch result.termination {
        case .exited(let code): status = code
        case .signaled: status = -1
        }
        return (status, result.standardOutput + result.standardError)
    }

    /// The pids in every `*.pid` file of a directory.
    public static func readPIDs(in directory: String) throws -> [Int32] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var pids: [Int32] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasSuffix(".pid"), let text = self.readFile(directory + "/" + name),
                let pid = Int32(text.split(separator: "\n").first ?? "")
            else { continue }
            pids.append(pid)
        }
        return pids
    }

    /// True while `pid` exists and is not a zombie.
    public static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = self.readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }

    /// True while the postmaster of a data directory runs.
    public static func postmasterRunning(dataDirectory: String) -> Bool {
        guard let text = self.readFile(dataDirectory + "/postmaster.pid"), let pid = Int32(text.split(separator: "\n").first ?? "") else {
            return false
        }
        return self.isRunning(pid)
    }

    /// The file's text; nil when it cannot be opened.
    public static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
