#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A program started in the background for a test (the `switchyard` binary
/// itself), with its stdout and stderr going to a file the test can read while
/// it runs; signals can be sent and its exit awaited with a deadline.
public final class BackgroundProcess: Sendable {
    public let pid: Int32
    public let outputPath: String
    private let exitStatus = Mutex<Int32?>(nil)

    private init(pid: Int32, outputPath: String) {
        self.pid = pid
        self.outputPath = outputPath
    }

    public static func start(_ arguments: [String], environment: [String: String] = [:], outputPath: String) throws -> BackgroundProcess {
        guard let executable = arguments.first else { throw ShellCommandError(message: "no command") }
        let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ShellCommandError(message: "cannot open \(outputPath)") }
        defer { close(fd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        // Close every other descriptor in the child: without this it inherits the test
        // process's listening sockets (NIO's are not close-on-exec), so a server a test
        // "stopped" keeps listening in the child and the port stays taken.
        if let addClosefrom = SpawnExtensions.shared.addClosefrom {
            _ = addClosefrom(&actions, 3)
        }
        var merged = ShellCommand.processEnvironment()
        merged.merge(environment) { _, new in new }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else { throw ShellCommandError(message: "posix_spawn \(executable): errno \(rc)") }
        return BackgroundProcess(pid: pid, outputPath: outputPath)
    }

    public var output: String {
        ShellCommand.readFile(self.outputPath) ?? ""
    }

    /// Waits until the output contains `needle` (a startup line). Throws at once if the process
    /// exits first, and on timeout with the threads' stacks (lldb or gdb, when installed); both
    /// errors carry the end of the output, so that a failure says why.
    public func waitForOutput(containing needle: String, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if self.output.contains(needle) { return }
            if let status = self.poll() {
                let output = self.output
                if output.contains(needle) { return }
                throw BackgroundProcessError(
                    pid: self.pid, problem: "exited with status \(status) before printing \(needle)", output: output, stacks: nil)
            }
            if clock.now >= deadline {
                let stacks = await self.threadStacks()
                throw BackgroundProcessError(
                    pid: self.pid, problem: "still running but had not printed \(needle) after \(timeout)", output: self.output,
                    stacks: stacks)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Every thread's stack, from the first debugger found (bounded in time); nil without one.
    public func threadStacks() async -> String? {
        let debuggers: [[String]] = [
            ["/opt/swift/usr/bin/lldb", "--batch", "-p", "\(self.pid)", "-o", "thread backtrace all"],
            ["/usr/bin/lldb", "--batch", "-p", "\(self.pid)", "-o", "thread backtrace all"],
            ["/usr/bin/gdb", "-batch", "-p", "\(self.pid)", "-ex", "thread apply all bt"],
        ]
        for command in debuggers where access(command[0], X_OK) == 0 {
            if let result = try? await ShellCommand.run(command, timeout: .seconds(60)), result.status == 0 {
                return result.output
            }
        }
        return nil
    }

    public func signal(_ number: Int32) {
        if self.exitStatus.withLock({ $0 }) == nil {
            Glibc.kill(self.pid, number)
        }
    }

    /// The exit status once it has exited (nil while running); reaps it.
    public func poll() -> Int32? {
        self.exitStatus.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let result = waitpid(self.pid, &raw, WNOHANG)
            guard result == self.pid else { return nil }
            let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : -(raw & 0x7f)
            status = code
            return code
        }
    }

    /// Waits for the exit (throws on timeout, leaving it running).
    public func waitForExit(timeout: Duration) async throws -> Int32 {
        var exit: Int32? = nil
        try await eventually("pid \(self.pid) exits", timeout: timeout, pollEvery: .milliseconds(20)) {
            exit = self.poll()
            return exit != nil
        }
        return exit ?? -1
    }

    /// SIGKILL if still running, and reap.
    public func kill() {
        if self.poll() == nil {
            Glibc.kill(self.pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(self.pid, &raw, 0)
            self.exitStatus.withLock { $0 = -9 }
        }
    }
}

/// A background process that did not start as expected: what happened, and the end of its output.
public struct BackgroundProcessError: Error, CustomStringConvertible, Sendable {
    public var pid: Int32
    public var problem: String
    public var output: String
    public var stacks: String?

    public var description: String {
        var text = "pid \(self.pid) \(self.problem); the end of its output:\n\(self.output.suffix(4_000))"
        if let stacks = self.stacks {
            text += "\nits threads:\n\(stacks.suffix(20_000))"
        }
        return text
    }
}

public struct ShellCommandError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { self.message }

    public init(message: String) {
        self.message = message
    }
}
