import Foundation
import Logging
import SwitchyardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The commands behind ``PostgresCluster``: initdb, configuration files, `pg_ctl` start/stop with port
/// retries, psql, server-side waits and the teardown. Stateless apart from the port reservations, which
/// are keyed by ``directory``.
struct PostgresServerControl: Sendable {
    let installation: PostgresInstallation
    let options: PostgresCluster.Options
    let logger: Logger
    /// The cluster's private temporary directory.
    let directory: String

    var socketDirectory: String { self.directory + "/run" }
    var logDirectory: String { self.directory + "/log" }

    func dataDirectory(_ name: String) -> String { self.directory + "/" + name }
    func logFile(_ name: String) -> String { self.logDirectory + "/" + name + ".log" }

    /// The file every node's `postgresql.conf` includes last, holding what differs per node.
    static let nodeConfigurationFile = "switchyard_node.conf"

    // MARK: - Directory

    /// Creates `<base>/switchyard-pg-XXXXXX` with `run/` and `log/`, owned by the server user.
    static func makeDirectory(base: String, owner: (uid: UInt32, gid: UInt32)?) throws -> String {
        var template = Array("\(base)/switchyard-pg-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard created else {
            throw PostgresFixtureError(
                .fileSystem,
                "cannot create a temporary directory in \(base): \(PostgresProcessRunner.errorString(errno))"
            )
        }
        let directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The longest socket path: DIR/run/.s.PGSQL.NNNNN plus ".lock" for the lock file (limit 107 bytes).
        let longestSocketPath = directory.utf8.count + "/run/.s.PGSQL.32000.lock".utf8.count
        guard longestSocketPath <= 107 else {
            _ = rmdir(directory)
            throw PostgresFixtureError(
                .invalidArgument,
                "base directory \(base) is too long: unix socket paths under it would exceed 107 bytes"
            )
        }
        do {
            try PostgresOrphanReaper.writeOwnerFile(in: directory)
            for path in [directory, directory + "/run", directory + "/log"] {
                if path != directory {
                    guard mkdir(path, 0o700) == 0 else {
                        throw PostgresFixtureError(.fileSystem, "cannot create \(path): \(PostgresProcessRunner.errorString(errno))")
                    }
                }
                try self.chown(path, to: owner)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        return directory
    }

    static func chown(_ path: String, to owner: (uid: UInt32, gid: UInt32)?) throws {
        guard let owner else { return }
        #if os(Linux)
        let rc = Glibc.chown(path, owner.uid, owner.gid)
        #else
        let rc = Darwin.chown(path, owner.uid, owner.gid)
        #endif
        guard rc == 0 else {
            throw PostgresFixtureError(.fileSystem, "cannot chown \(path): \(PostgresProcessRunner.errorString(errno))")
        }
    }

    // MARK: - Commands

    func run(
        _ tool: String,
        _ arguments: [String],
        standardInput: String? = nil,
        timeout: Duration? = nil
    ) async throws -> PostgresCommandResult {
        let command = self.installation.command(
            tool,
            arguments,
            workingDirectory: self.directory,
            standardInput: standardInput,
            timeout: timeout ?? self.options.commandTimeout
        )
        let result = try await PostgresProcessRunner.run(command)
        self.logger.debug(
            "ran \(command.displayName)",
            metadata: ["termination": "\(result.termination)", "duration": "\(result.duration)"]
        )
        return result
    }

    /// Runs a command and throws ``PostgresFixtureError/Code/commandFailed`` (with stderr and, when given,
    /// the tail of `serverLog`) unless it exits 0.
    @discardableResult
    func runChecked(
        _ tool: String,
        _ arguments: [String],
        standardInput: String? = nil,
        timeout: Duration? = nil,
        serverLog: String? = nil
    ) async throws -> PostgresCommandResult {
        let result = try await self.run(tool, arguments, standardInput: standardInput, timeout: timeout)
        guard result.succeeded else {
            var message = "\(([tool] + arguments).joined(separator: " ")) failed with \(result.termination)"
                + PostgresProcessRunner.outputSuffix(result)
            if let serverLog {
                message += self.logTail(serverLog)
            }
            throw PostgresFixtureError(.commandFailed, message)
        }
        return result
    }

    // MARK: - Creating nodes

    func initdb(_ name: String) async throws {
        try await self.runChecked("initdb", [
            "-D", self.dataDirectory(name), "-U", PostgresCluster.superuser, "-N", "--auth=trust",
            "-E", "UTF8", "--locale=C",
        ])
    }

    /// The fixture's settings, appended to the primary's `postgresql.conf` (base backups copy them to
    /// the replicas), followed by ``Options/extraConfiguration`` and the per-node include.
    func appendClusterConfiguration(_ name: String) throws {
        let lines = [
            "",
            "# --- Switchyard test fixture ---",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = '\(self.socketDirectory)'",
            "fsync = off",
            "wal_level = replica",
            "max_wal_senders = 10",
            "max_replication_slots = 10",
            "hot_standby = on",
            "wal_receiver_status_interval = 1s",
            // A cut or restarted walreceiver is restarted after this (default 5 s).
            "wal_retrieve_retry_interval = 200ms",
            "max_connections = 40",
            "shared_buffers = 16MB",
            "max_parallel_workers_per_gather = 0",
            "log_line_prefix = '%m [%p] %q%a '",
            "log_min_messages = info",
        ] + self.options.extraConfiguration + [
            "include_if_exists = '\(Self.nodeConfigurationFile)'",
            "",
        ]
        try self.appendFile(self.dataDirectory(name) + "/postgresql.conf", lines.joined(separator: "\n"))
    }

    /// Writes the per-node settings (port, cluster_name) into the node's ``nodeConfigurationFile``.
    func writeNodeConfiguration(_ name: String, port: Int) throws {
        let path = self.dataDirectory(name) + "/" + Self.nodeConfigurationFile
        let text = "# Written by the Switchyard test fixture: what differs per node.\n"
            + "port = \(port)\ncluster_name = '\(name)'\n"
        do {
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            throw PostgresFixtureError(.fileSystem, "cannot write \(path): \(error)")
        }
        try Self.chown(path, to: self.installation.owner)
    }

    func appendFile(_ path: String, _ text: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw PostgresFixtureError(.fileSystem, "cannot open \(path) for appending")
        }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw PostgresFixtureError(.fileSystem, "cannot append to \(path): \(error)")
        }
    }

    /// Creates the physical replication slots `names` on the primary, reserving WAL at once.
    ///
    /// Why not `pg_basebackup -C`: it creates the slot from its background WAL-streaming connection, after
    /// the backup's checkpoint, and the slot reserves WAL from the *latest* checkpoint. When another
    /// checkpoint runs in between (the fast checkpoint of a second base backup running in parallel, or a
    /// timed one), the segment holding the backup's start can be recycled first: pg_basebackup then fails
    /// with "requested WAL segment ... has already been removed" (seen with two replicas). A slot created
    /// before the backups start holds all the WAL they need.
    func createSlots(_ names: [String], primaryPort: Int) async throws {
        guard !names.isEmpty else { return }
        let sql = names.map { "SELECT pg_create_physical_replication_slot('\($0)', true);" }.joined(separator: "\n")
        _ = try await self.psql(port: primaryPort, sql, database: "postgres")
    }

    /// `pg_basebackup -R -X stream -S NAME` (slot made by ``createSlots(_:primaryPort:)``) from the primary
    /// into `name`'s data directory. `-R` writes `primary_conninfo` (with `application_name=NAME`) and
    /// `primary_slot_name` into its `postgresql.auto.conf` and creates `standby.signal`.
    func baseBackup(_ name: String, primaryPort: Int) async throws {
        try await self.runChecked("pg_basebackup", [
            "-D", self.dataDirectory(name), "-R", "-X", "stream", "-S", name, "-N", "-c", "fast",
            "-d", "host=127.0.0.1 port=\(primaryPort) user=\(PostgresCluster.superuser) application_name=\(name) connect_timeout=10",
        ])
    }

    // MARK: - Starting and stopping

    /// `pg_ctl start -w` for node `name`. With `fixedPort` nil, a port is reserved from the range and a
    /// failed bind is retried with another port, up to ``Options/bindAttempts`` times; with a fixed port
    /// (a restart) the same port is retried after a short pause. Returns the port the server listens on.
    func startServer(_ name: String, fixedPort: Int?) async throws -> Int {
        let dataDirectory = self.dataDirectory(name)
        let logFile = self.logFile(name)
        var excluded = Set<Int>()
        var candidates = self.options.portCandidatesForTesting ?? []
        let attempts = max(1, self.options.bindAttempts)
        for attempt in 1...attempts {
            let port: Int
            if let fixedPort {
                port = fixedPort
            } else if !candidates.isEmpty {
                port = candidates.removeFirst()
                guard PostgresPortAllocator.reserveExactly(port, for: self.directory) else { continue }
            } else {
                guard let reserved = PostgresPortAllocator.reserve(
                    in: self.options.portRange,
                    for: self.directory,
                    excluding: excluded
                ) else {
                    throw PostgresFixtureError(
                        .noFreePort,
                        "no free TCP port in \(self.options.portRange) for \(name) (every probe found a listener)"
                    )
                }
                port = reserved
            }
            try self.writeNodeConfiguration(name, port: port)
            let logOffset = self.fileSize(logFile)
            let seconds = max(1, Int(self.options.commandTimeout.components.seconds))
            let result = try await self.run(
                "pg_ctl",
                ["start", "-D", dataDirectory, "-l", logFile, "-w", "-t", "\(seconds)", "-s"],
                timeout: self.options.commandTimeout + .seconds(15)
            )
            if result.succeeded {
                self.logger.debug("started \(name)", metadata: ["port": "\(port)", "attempt": "\(attempt)"])
                return port
            }
            let newLog = self.readFile(logFile, from: logOffset)
            guard Self.isBindFailure(newLog) else {
                throw PostgresFixtureError(
                    .commandFailed,
                    "pg_ctl start of \(name) (port \(port)) failed with \(result.termination)"
                        + PostgresProcessRunner.outputSuffix(result) + self.logTail(logFile)
                )
            }
            self.logger.warning(
                "\(name) could not bind its port, retrying",
                metadata: ["port": "\(port)", "attempt": "\(attempt)/\(attempts)"]
            )
            if fixedPort == nil {
                PostgresPortAllocator.release(port)
                excluded.insert(port)
            } else {
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        throw PostgresFixtureError(
            .noFreePort,
            "\(name) failed to bind a port \(attempts) times in a row" + self.logTail(logFile)
        )
    }

    /// The postmaster's log says its listening socket could not be bound.
    static func isBindFailure(_ log: String) -> Bool {
        log.contains("Address already in use") || log.contains("could not create any TCP/IP sockets")
    }

    func stopServer(_ name: String, mode: PostgresCluster.StopMode) async throws {
        let seconds = max(1, Int(self.options.commandTimeout.components.seconds))
        try await self.runChecked(
            "pg_ctl",
            ["stop", "-D", self.dataDirectory(name), "-m", mode.rawValue, "-w", "-t", "\(seconds)", "-s"],
            timeout: self.options.commandTimeout + .seconds(15),
            serverLog: self.logFile(name)
        )
    }

    // MARK: - SQL

    /// Runs `sql` through `psql -X -A -t -q -v ON_ERROR_STOP=1 -f -` (stdin) as the server OS user and
    /// returns its trimmed stdout. Throws with psql's stderr when psql exits non-zero.
    func psql(
        port: Int,
        _ sql: String,
        user: String = PostgresCluster.superuser,
        database: String = PostgresCluster.database,
        timeout: Duration? = nil
    ) async throws -> String {
        let conninfo = "host=127.0.0.1 port=\(port) user=\(user) dbname=\(database) connect_timeout=10 "
            + "application_name=switchyard-fixture"
        let result = try await self.run(
            "psql",
            ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-f", "-"],
            standardInput: sql,
            timeout: timeout ?? self.options.queryTimeout
        )
        guard result.succeeded else {
            throw PostgresFixtureError(
                .commandFailed,
                "psql on port \(port) as \(user) failed with \(result.termination): "
                    + PostgresProcessRunner.clip(result.standardError) + "\nSQL: " + PostgresProcessRunner.clip(sql)
            )
        }
        return result.standardOutput.trimmingWhitespace()
    }

    /// Waits inside the server (one psql call, a DO loop polling every 10 ms, bounded by
    /// `statement_timeout`) until `condition` (an SQL boolean expression) is true. NULL counts as false.
    /// `pg_stat_clear_snapshot()` runs each round, so `pg_stat_activity`/`pg_stat_replication` are re-read.
    func waitInServer(port: Int, until condition: String, describedAs description: String, timeout: Duration) async throws {
        let milliseconds = max(1, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let sql = """
            SET statement_timeout = \(milliseconds);
            DO $switchyard$
            BEGIN
              WHILE NOT coalesce((\(condition)), false) LOOP
                PERFORM pg_stat_clear_snapshot();
                PERFORM pg_sleep(0.01);
              END LOOP;
            END
            $switchyard$;
            """
        do {
            _ = try await self.psql(port: port, sql, database: "postgres", timeout: timeout + .seconds(15))
        } catch let error as PostgresFixtureError where error.code == .commandFailed && error.message.contains("statement timeout") {
            throw PostgresFixtureError(.timeout, "\(description): not reached within \(timeout)")
        }
    }

    // MARK: - Teardown

    /// Stops every server whose `postmaster.pid` is in one of `dataDirectories` (SIGCONT first, then
    /// `pg_ctl stop -m immediate`, then SIGKILL for whatever of its process tree is left), removes the
    /// cluster directory and releases its ports. Never throws; problems are logged.
    func tearDown(names: [String]) async {
        await withTaskGroup(of: Void.self) { group in
            for name in names {
                group.addTask {
                    await self.forceStop(name)
                }
            }
        }
        do {
            try await BlockingIO.run { [directory = self.directory] in
                if FileManager.default.fileExists(atPath: directory) {
                    try FileManager.default.removeItem(atPath: directory)
                }
            }
        } catch {
            self.logger.error("could not remove the cluster directory", metadata: ["error": "\(error)"])
        }
        PostgresPortAllocator.releaseAll(for: self.directory)
    }

    func forceStop(_ name: String) async {
        let dataDirectory = self.dataDirectory(name)
        let tree = PostgresProcessTree.tree(of: dataDirectory)
        guard !tree.isEmpty else { return }
        PostgresProcessTree.send(SIGCONT, to: tree)
        do {
            try await self.runChecked(
                "pg_ctl",
                ["stop", "-D", dataDirectory, "-m", "immediate", "-w", "-t", "15", "-s"],
                timeout: .seconds(30)
            )
        } catch {
            self.logger.warning("pg_ctl stop -m immediate failed", metadata: ["node": "\(name)", "error": "\(error)"])
        }
        if await self.waitUntilGone(tree, timeout: .seconds(10)) { return }
        let killed = PostgresProcessTree.send(SIGKILL, to: tree)
        self.logger.warning("killed leftover server processes", metadata: ["node": "\(name)", "pids": "\(killed)"])
        if !(await self.waitUntilGone(tree, timeout: .seconds(10))) {
            self.logger.error("server processes survived SIGKILL", metadata: ["node": "\(name)"])
        }
    }

    /// Polls (on a dedicated thread) until none of `processes` runs; false at the deadline.
    func waitUntilGone(_ processes: [PostgresProcessIdentity], timeout: Duration) async -> Bool {
        (try? await BlockingIO.run {
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: timeout)
            while processes.contains(where: PostgresProcessTree.isRunning) {
                if clock.now >= deadline { return false }
                usleep(5_000)
            }
            return true
        }) ?? false
    }

    // MARK: - Files

    func fileSize(_ path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int(info.st_size)
    }

    func readFile(_ path: String, from offset: Int) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(max(0, offset)))
            let data = try handle.readToEnd() ?? Data()
            return String(decoding: data, as: UTF8.self)
        } catch {
            return ""
        }
    }

    /// `\n--- last lines of LOG ---\n...` (at most 30 lines), or "" when the log is empty.
    func logTail(_ path: String) -> String {
        let size = self.fileSize(path)
        let text = self.readFile(path, from: max(0, size - 16_384))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(30)
        let tail = lines.joined(separator: "\n").trimmingWhitespace()
        return tail.isEmpty ? "" : "\n--- last lines of \(path) ---\n\(tail)"
    }
}

// MARK: - Replication

extension PostgresServerControl {
    /// `pg_current_wal_lsn()` of the server on `port` (an error on a standby).
    func currentLSN(port: Int) async throws -> LSN {
        let text = try await self.psql(port: port, "SELECT pg_current_wal_lsn();", database: "postgres")
        guard let lsn = LSN(parsing: text) else {
            throw PostgresFixtureError(.commandFailed, "unexpected pg_current_wal_lsn() output on port \(port): '\(text)'")
        }
        return lsn
    }

    /// `pg_last_wal_replay_lsn()` of the server on `port`: nil on a server that never was a standby.
    func replayLSN(port: Int) async throws -> LSN? {
        let text = try await self.psql(port: port, "SELECT pg_last_wal_replay_lsn();", database: "postgres")
        guard !text.isEmpty else { return nil }
        guard let lsn = LSN(parsing: text) else {
            throw PostgresFixtureError(.commandFailed, "unexpected pg_last_wal_replay_lsn() output on port \(port): '\(text)'")
        }
        return lsn
    }

    /// Waits until the standby on `port` has replayed `lsn`; returns its replay position then.
    func waitForReplay(_ name: String, port: Int, atLeast lsn: LSN, timeout: Duration) async throws -> LSN {
        do {
            try await self.waitInServer(
                port: port,
                until: "pg_last_wal_replay_lsn() >= '\(lsn)'::pg_lsn",
                describedAs: "\(name) replaying \(lsn)",
                timeout: timeout
            )
        } catch let error as PostgresFixtureError where error.code == .timeout {
            let seen = (try? await self.replayLSN(port: port)).flatMap { $0 }.map { "\($0)" } ?? "unknown"
            throw PostgresFixtureError(.timeout, error.message + " (replay position: \(seen))")
        }
        guard let replayed = try await self.replayLSN(port: port) else {
            throw PostgresFixtureError(.commandFailed, "\(name) reports no replay position after reaching \(lsn)")
        }
        return replayed
    }

    /// Waits until the primary's `pg_stat_replication` shows `name` streaming, then until `name` has replayed
    /// the primary's position as of that moment. Returns the replica's replay position.
    func waitUntilStreaming(_ name: String, port: Int, primaryPort: Int, timeout: Duration) async throws -> LSN {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        try await self.waitInServer(
            port: primaryPort,
            until: "EXISTS (SELECT 1 FROM pg_stat_replication WHERE application_name = '\(name)' AND state = 'streaming')",
            describedAs: "\(name) streaming (pg_stat_replication on the primary)",
            timeout: timeout
        )
        let target = try await self.currentLSN(port: primaryPort)
        let remaining = max(clock.now.duration(to: deadline), .milliseconds(500))
        return try await self.waitForReplay(name, port: port, atLeast: target, timeout: remaining)
    }
}
