#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a ``PostgresCommand`` with `posix_spawn` on a dedicated thread (``BlockingIO``), never on the
/// Swift concurrency pool.
///
/// Why not Foundation's `Process`: we need a hard deadline that kills the whole process group, a working
/// directory the `postgres` user can enter, stdout/stderr that can never deadlock, and no descriptor of the
/// test process leaking into a long-lived postmaster. So:
/// - stdin, stdout and stderr are unlinked temporary files opened with `O_CLOEXEC`, not pipes. Reading a
///   pipe to EOF would hang for as long as any process holding its write end lives, and `pg_ctl start`
///   leaves a postmaster behind; with files the output is simply read after the child exited.
/// - every other descriptor is closed in the child (`posix_spawn_file_actions_addclosefrom_np`), so a
///   postmaster never inherits, say, a listening socket of a fake app server of a parallel test.
/// - the child gets its own process group, default signal dispositions and an empty signal mask; on
///   timeout the whole group gets SIGKILL. (`pg_ctl start` puts the postmaster in a session of its own,
///   so a killed `pg_ctl` never takes a server down with it.)
/// - waiting is `waitpid(pid, WNOHANG)` with a short back-off (0.5 ms growing to 10 ms).
enum PostgresProcessRunner {
    static func run(_ command: PostgresCommand) async throws -> PostgresCommandResult {
        try await BlockingIO.run {
            try self.runBlocking(command)
        }
    }

    /// Largest amount of stdout or stderr kept (the rest is dropped).
    static let outputLimit = 8 << 20

    #if os(Linux)
    static func runBlocking(_ command: PostgresCommand) throws -> PostgresCommandResult {
        let clock = ContinuousClock()
        let started = clock.now

        let inputFD = try command.standardInput.map { try self.scratchFile(contents: $0) } ?? self.openDevNull()
        defer { _ = close(inputFD) }
        let outputFD = try self.scratchFile(contents: nil)
        defer { _ = close(outputFD) }
        let errorFD = try self.scratchFile(contents: nil)
        defer { _ = close(errorFD) }

        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_adddup2(&fileActions, inputFD, 0)
        posix_spawn_file_actions_adddup2(&fileActions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&fileActions, errorFD, 2)
        if let directory = command.workingDirectory {
            guard let addChdir = SpawnExtensions.shared.addChdir else {
                throw PostgresFixtureError(
                    .unsupportedPlatform,
                    "posix_spawn_file_actions_addchdir_np is not available (glibc 2.29 or newer is needed)"
                )
            }
            let rc = directory.withCString { addChdir(&fileActions, $0) }
            guard rc == 0 else {
                throw PostgresFixtureError(.commandFailed, "\(command.displayName): addchdir failed: \(self.errorString(rc))")
            }
        }
        if let addClosefrom = SpawnExtensions.shared.addClosefrom {
            _ = addClosefrom(&fileActions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        )

        let argv = ([command.executable] + command.arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let envp = command.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer { envp.forEach { free($0) } }

        var pid = pid_t()
        let spawned = (argv + [nil]).withUnsafeBufferPointer { argvBuffer -> Int32 in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer -> Int32 in
                guard let argvBase = argvBuffer.baseAddress, let envpBase = envpBuffer.baseAddress else { return EINVAL }
                return posix_spawn(&pid, command.executable, &fileActions, &attributes, argvBase, envpBase)
            }
        }
        guard spawned == 0 else {
            throw PostgresFixtureError(
                .commandFailed,
                "\(command.displayName): could not start \(command.executable): \(self.errorString(spawned))"
            )
        }

        let deadline = started.advanced(by: command.timeout)
        var status: Int32 = 0
        var timedOut = false
        var backoffMicros: UInt32 = 500
        waiting: while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid {
                break waiting
            }
            if waited < 0 {
                let code = errno
                if code == EINTR { continue waiting }
                // ECHILD: something else in this process reaped the child (waitpid(-1) or SIGCHLD ignored).
                throw PostgresFixtureError(
                    .commandFailed,
                    "\(command.displayName): its exit status was lost (\(self.errorString(code))): "
                        + "something else in the test process reaped the child"
                )
            }
            if clock.now >= deadline {
                timedOut = true
                _ = kill(-pid, SIGKILL)
                _ = kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                break waiting
            }
            usleep(backoffMicros)
            backoffMicros = min(backoffMicros * 2, 10_000)
        }

        let result = PostgresCommandResult(
            termination: self.termination(from: status),
            standardOutput: self.readAll(outputFD),
            standardError: self.readAll(errorFD),
            duration: started.duration(to: clock.now)
        )
        if timedOut {
            throw PostgresFixtureError(
                .timeout,
                "\(command.displayName) did not finish within \(command.timeout) and was killed"
                    + self.outputSuffix(result)
            )
        }
        return result
    }
    #else
    static func runBlocking(_ command: PostgresCommand) throws -> PostgresCommandResult {
        throw PostgresFixtureError(.unsupportedPlatform, "the PostgreSQL test fixture runs on Linux only")
    }
    #endif

    /// ` (stderr: ...; stdout: ...)` for error messages, empty when both are empty.
    static func outputSuffix(_ result: PostgresCommandResult) -> String {
        var parts: [String] = []
        let standardError = self.clip(result.standardError)
        let standardOutput = self.clip(result.standardOutput)
        if !standardError.isEmpty { parts.append("stderr: \(standardError)") }
        if !standardOutput.isEmpty { parts.append("stdout: \(standardOutput)") }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
    }

    /// Trims and keeps at most the last 4000 characters of `text`.
    static func clip(_ text: String) -> String {
        let trimmed = text.trimmingWhitespace()
        guard trimmed.count > 4000 else { return trimmed }
        return "..." + String(trimmed.suffix(4000))
    }

    static func termination(from status: Int32) -> PostgresCommandResult.Termination {
        let signal = status & 0x7F
        if signal == 0 {
            return .exited((status >> 8) & 0xFF)
        }
        return .signaled(signal)
    }

    static func errorString(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "errno \(code)" }
        return "\(String(cString: message)) (errno \(code))"
    }

    /// An unlinked, close-on-exec temporary file in /tmp holding `contents`, positioned at its start.
    static func scratchFile(contents: String?) throws -> Int32 {
        for _ in 0..<16 {
            let path = "/tmp/.switchyard-pg-io-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 {
                let code = errno
                if code == EEXIST || code == EINTR { continue }
                throw PostgresFixtureError(.fileSystem, "cannot create a temporary file in /tmp: \(self.errorString(code))")
            }
            _ = unlink(path)
            if let contents {
                var bytes = Array(contents.utf8)
                let written = bytes.withUnsafeMutableBytes { self.writeAll(fd, $0) }
                guard written else {
                    let code = errno
                    _ = close(fd)
                    throw PostgresFixtureError(.fileSystem, "cannot write a temporary file in /tmp: \(self.errorString(code))")
                }
                _ = lseek(fd, 0, SEEK_SET)
            }
            return fd
        }
        throw PostgresFixtureError(.fileSystem, "cannot create a temporary file in /tmp")
    }

    static func openDevNull() throws -> Int32 {
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw PostgresFixtureError(.fileSystem, "cannot open /dev/null: \(self.errorString(errno))")
        }
        return fd
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        var offset = 0
        while offset < buffer.count {
            let count = write(fd, base + offset, buffer.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }

    /// Everything in the file behind `fd` (from offset 0), as UTF-8 (invalid bytes repaired), at most ``outputLimit`` bytes.
    static func readAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var offset: off_t = 0
        while bytes.count < self.outputLimit {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            offset += off_t(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
