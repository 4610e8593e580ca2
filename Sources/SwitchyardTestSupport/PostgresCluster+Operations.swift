import SwitchyardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Parameter types

extension PostgresCluster {
    /// How ``PostgresCluster/stop(_:mode:)`` shuts a server down (`pg_ctl stop -m`).
    public enum StopMode: String, Sendable {
        /// Waits for clients to disconnect.
        case smart
        /// Disconnects clients, then a clean shutdown (checkpoint).
        case fast
        /// Like a crash: SIGQUIT to everything; the next start runs crash recovery.
        case immediate
    }

    /// Which processes ``PostgresCluster/sigstop(_:scope:)`` freezes.
    public enum FreezeScope: Sendable {
        /// The postmaster and every child (backends, walreceiver, startup...): the server is hung.
        case postmasterAndChildren
        /// Only the postmaster: existing connections keep working, new connections hang.
        case postmasterOnly
    }
}

// MARK: - SQL and positions

extension PostgresCluster {
    /// Runs `sql` (any number of statements, psql meta-commands allowed) on `node` with
    /// `psql -X -A -t -q -v ON_ERROR_STOP=1`, as the `postgres` OS user, over TCP. Returns the trimmed output
    /// (one line per row, columns separated by `|`). Throws with psql's stderr when a statement fails, and
    /// ``PostgresFixtureError/Code/timeout`` when psql runs longer than `timeout` (default
    /// ``Options/queryTimeout``) — e.g. against a frozen server.
    public func psql(
        on node: PostgresNode,
        _ sql: String,
        user: String = PostgresCluster.superuser,
        database: String = PostgresCluster.database,
        timeout: Duration? = nil
    ) async throws -> String {
        try self.validate(node)
        return try await self.control.psql(port: node.port, sql, user: user, database: database, timeout: timeout)
    }

    /// `pg_current_wal_lsn()` of the primary (or of `node`, e.g. a promoted replica).
    public func currentLSN(on node: PostgresNode? = nil) async throws -> LSN {
        let node = node ?? self.primary
        try self.validate(node)
        return try await self.control.currentLSN(port: node.port)
    }

    /// `pg_last_wal_replay_lsn()` of `replica`; nil on a node that never was a standby.
    public func replayLSN(_ replica: PostgresNode) async throws -> LSN? {
        try self.validate(replica)
        return try await self.control.replayLSN(port: replica.port)
    }

    /// Waits (in the server, 10 ms polls) until `replica` has replayed `lsn`; returns its replay position.
    /// Throws ``PostgresFixtureError/Code/timeout`` naming the position it got to.
    @discardableResult
    public func waitForReplay(_ replica: PostgresNode, atLeast lsn: LSN, timeout: Duration = .seconds(30)) async throws -> LSN {
        try self.validate(replica)
        return try await self.control.waitForReplay(replica.name, port: replica.port, atLeast: lsn, timeout: timeout)
    }

    /// Waits until the primary's `pg_stat_replication` shows `replica` as `streaming` and `replica` has
    /// replayed the primary's position of that moment (after a restart or ``restoreReceiver(_:)``).
    @discardableResult
    public func waitUntilStreaming(_ replica: PostgresNode, timeout: Duration? = nil) async throws -> LSN {
        try self.validate(replica)
        return try await self.control.waitUntilStreaming(
            replica.name,
            port: replica.port,
            primaryPort: self.primary.port,
            timeout: timeout ?? self.control.options.replicationTimeout
        )
    }

    /// A bounded write loop: inserts `rows` rows into ``writeTable``, one transaction each (a DO block
    /// with `COMMIT` after every row, in one psql call), sleeping `pause` after each commit. Runs on the
    /// primary unless `node` is given (a promoted replica). Returns `pg_current_wal_lsn()` after the last
    /// commit. About 280 bytes of WAL per row.
    @discardableResult
    public func writeLoop(rows: Int, pause: Duration = .zero, on node: PostgresNode? = nil) async throws -> LSN {
        let node = node ?? self.primary
        try self.validate(node)
        guard rows >= 0 else {
            throw PostgresFixtureError(.invalidArgument, "writeLoop rows must be >= 0, not \(rows)")
        }
        let pauseSeconds = Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18
        let sleep = pauseSeconds > 0 ? "PERFORM pg_sleep(\(pauseSeconds));" : ""
        let sql = """
            DO $switchyard$
            BEGIN
              FOR i IN 1..\(rows) LOOP
                INSERT INTO \(Self.writeTable) (payload) VALUES ('row ' || i);
                COMMIT;
                \(sleep)
              END LOOP;
            END
            $switchyard$;
            SELECT pg_current_wal_lsn();
            """
        let timeout = self.control.options.queryTimeout + pause * rows
        let text = try await self.control.psql(port: node.port, sql, timeout: timeout)
        guard let lsn = LSN(parsing: text) else {
            throw PostgresFixtureError(.commandFailed, "unexpected writeLoop output on \(node): '\(text)'")
        }
        return lsn
    }

    /// `SELECT count(*)` of ``writeTable`` on `node`.
    public func writtenRowCount(on node: PostgresNode) async throws -> Int {
        let text = try await self.psql(on: node, "SELECT count(*) FROM \(Self.writeTable);")
        guard let count = Int(text) else {
            throw PostgresFixtureError(.commandFailed, "unexpected count(*) output on \(node): '\(text)'")
        }
        return count
    }

    /// `pg_is_in_recovery()` of `node`: true on a standby, false on a primary or a promoted replica.
    public func isInRecovery(_ node: PostgresNode) async throws -> Bool {
        try await self.psql(on: node, "SELECT pg_is_in_recovery();") == "t"
    }
}

// MARK: - Making trouble

extension PostgresCluster {
    /// `pg_wal_replay_pause()` on `replica`, then waits until the pause state is `paused` (immediate, even
    /// with nothing to replay). The walreceiver keeps receiving: receive moves ahead, replay stays.
    public func pauseReplay(_ replica: PostgresNode) async throws {
        _ = try await self.psql(on: replica, "SELECT pg_wal_replay_pause();")
        let condition = self.control.installation.majorVersion >= 14
            ? "pg_get_wal_replay_pause_state() = 'paused'"
            : "pg_is_wal_replay_paused()"
        try await self.control.waitInServer(
            port: replica.port,
            until: condition,
            describedAs: "\(replica.name) replay paused",
            timeout: .seconds(10)
        )
    }

    /// `pg_wal_replay_resume()` on `replica`. Catching up takes milliseconds (about 250 MB/s here).
    public func resumeReplay(_ replica: PostgresNode) async throws {
        _ = try await self.psql(on: replica, "SELECT pg_wal_replay_resume();")
    }

    /// `pg_ctl stop -m MODE -w` (frozen processes get SIGCONT first). The node keeps its port and data;
    /// ``start(_:)`` brings it back. On the primary the replicas' slots show `active = f` and retain WAL.
    public func stop(_ node: PostgresNode, mode: StopMode = .fast) async throws {
        try self.validate(node)
        try await self.continueFrozen(node)
        try await self.control.stopServer(node.name, mode: mode)
    }

    /// `pg_ctl start -w` on the node's own port (retried briefly if the bind fails). For a replica, follow
    /// with ``waitUntilStreaming(_:timeout:)`` when the test needs it streaming again.
    public func start(_ node: PostgresNode) async throws {
        try self.validate(node)
        _ = try await self.control.startServer(node.name, fixedPort: node.port)
    }

    /// Freezes `node` with SIGSTOP: the postmaster and (by default) every child of it (backends,
    /// walreceiver, startup...), found through `postmaster.pid` and `/proc`. Connections and queries then
    /// hang (libpq's `connect_timeout` rounds up to 2 s; nothing server-side fires). Returns the frozen
    /// processes. Always undo with ``sigcont(_:)`` (``shutdown()`` does it too).
    @discardableResult
    public func sigstop(_ node: PostgresNode, scope: FreezeScope = .postmasterAndChildren) async throws -> [PostgresProcessIdentity] {
        try self.validate(node)
        guard let postmaster = PostgresProcessTree.postmaster(of: node.dataDirectory) else {
            throw PostgresFixtureError(.commandFailed, "\(node) is not running (no live postmaster for \(node.dataDirectory))")
        }
        var stopped = PostgresProcessTree.send(SIGSTOP, to: [postmaster])
        if scope == .postmasterAndChildren {
            // The stopped postmaster cannot fork any more; a child forked just before it stopped shows up in
            // the next scan, so scan until nothing new appears.
            for _ in 0..<5 {
                let fresh = PostgresProcessTree.children(of: postmaster.pid).filter { !stopped.contains($0) }
                if fresh.isEmpty { break }
                stopped += PostgresProcessTree.send(SIGSTOP, to: fresh)
            }
        }
        self.setFrozen(stopped, for: node)
        let frozenNow = stopped
        // Each one either stops or exits: a child that was already on its way out
        // when the signal came (the backend of a connection that just closed) is
        // gone rather than frozen, and is not reported as frozen.
        let allStopped = (try? await BlockingIO.run {
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(5))
            while !frozenNow.allSatisfy({ PostgresProcessTree.isStopped($0) || !PostgresProcessTree.isRunning($0) }) {
                if clock.now >= deadline { return false }
                usleep(1_000)
            }
            return true
        }) ?? false
        if !allStopped {
            self.control.logger.warning("not every process reported the stopped state", metadata: ["node": "\(node.name)"])
        }
        let gone = Set(stopped.filter { !PostgresProcessTree.isRunning($0) })
        if !gone.isEmpty {
            stopped.removeAll { gone.contains($0) }
            self.forgetFrozen(gone, for: node)
        }
        self.control.logger.debug("froze \(node.name)", metadata: ["pids": "\(stopped)"])
        return stopped
    }

    /// SIGCONT to everything ``sigstop(_:scope:)`` froze on `node` (children first, then the postmaster).
    public func sigcont(_ node: PostgresNode) async throws {
        try self.validate(node)
        try await self.continueFrozen(node)
    }

    private func continueFrozen(_ node: PostgresNode) async throws {
        let processes = self.takeFrozen(for: node)
        guard !processes.isEmpty else { return }
        PostgresProcessTree.send(SIGCONT, to: processes.reversed())
        self.control.logger.debug("continued \(node.name)", metadata: ["pids": "\(processes)"])
    }

    /// The processes ``sigstop(_:scope:)`` froze on `node` and that have not been continued.
    public func frozenProcesses(on node: PostgresNode) -> [PostgresProcessIdentity] {
        self.frozenList(of: node)
    }

    /// The node's postmaster followed by its children, right now (empty when it is not running).
    public nonisolated func serverProcesses(of node: PostgresNode) -> [PostgresProcessIdentity] {
        PostgresProcessTree.tree(of: node.dataDirectory)
    }

    /// Cuts `replica` off its primary: `ALTER SYSTEM SET primary_conninfo = ''` + `pg_reload_conf()`, then
    /// waits until its walreceiver is gone. Its receive position freezes and *equals* replay, so a
    /// receive-vs-replay lag check reads 0 while it falls behind. Undo with ``restoreReceiver(_:)``.
    public func cutReceiver(_ replica: PostgresNode) async throws {
        let current = try await self.psql(on: replica, "SHOW primary_conninfo;")
        if !current.isEmpty {
            self.savePrimaryConninfo(current, for: replica)
        }
        _ = try await self.psql(on: replica, "ALTER SYSTEM SET primary_conninfo = '';\nSELECT pg_reload_conf();")
        try await self.control.waitInServer(
            port: replica.port,
            until: "NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver)",
            describedAs: "\(replica.name) walreceiver gone",
            timeout: .seconds(30)
        )
    }

    /// Puts back the `primary_conninfo` that ``cutReceiver(_:)`` cleared, reloads, and (by default) waits
    /// until the replica streams and has caught up again.
    public func restoreReceiver(_ replica: PostgresNode, waitUntilStreaming: Bool = true) async throws {
        try self.validate(replica)
        guard let conninfo = self.savedConninfo(for: replica) else {
            throw PostgresFixtureError(.invalidArgument, "\(replica.name)'s receiver was not cut by cutReceiver(_:)")
        }
        let quoted = conninfo.replacingSingleQuotes()
        _ = try await self.psql(on: replica, "ALTER SYSTEM SET primary_conninfo = '\(quoted)';\nSELECT pg_reload_conf();")
        self.forgetPrimaryConninfo(for: replica)
        if waitUntilStreaming {
            try await self.waitUntilStreaming(replica)
        }
    }

    /// Promotes `replica` (`SELECT pg_promote(true, 60)`, which waits for the promotion to finish). It then
    /// leaves recovery on a new timeline; the old primary's slot for it shows `active = f`.
    public func promote(_ replica: PostgresNode) async throws {
        let promoted = try await self.psql(on: replica, "SELECT pg_promote(true, 60);", timeout: .seconds(90))
        guard promoted == "t" else {
            throw PostgresFixtureError(.timeout, "pg_promote() on \(replica.name) did not finish within 60 s (returned '\(promoted)')")
        }
    }
}
