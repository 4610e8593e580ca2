import Logging
import SwitchyardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A real PostgreSQL primary and 0–8 streaming replicas on 127.0.0.1, for level-3 tests. See
/// ``withPostgresCluster(replicas:options:isolation:_:)`` for the usage pattern (it always shuts down).
///
/// Layout: a private directory `/tmp/switchyard-pg-XXXXXX` (owned by the `postgres` OS user when the test
/// runs as root) holding `primary/`, `replica1/`... (data directories), `run/` (unix sockets) and `log/`
/// (one server log per node). Every node listens on its own random port from ``Options/portRange``.
///
/// The primary is made by `initdb -N --auth=trust` (trust for local and 127.0.0.1 connections) with
/// `fsync=off`, `wal_level=replica`, `hot_standby=on`, `wal_receiver_status_interval=1s`; it has a role
/// ``monitorRole`` (LOGIN, member of `pg_monitor`), a database ``database`` and a table ``writeTable``.
/// Each replica is `pg_basebackup -R -X stream -S replicaN` (slot `replicaN` created beforehand: see
/// ``PostgresServerControl/createSlots(_:primaryPort:)``) with `application_name=replicaN`; `start`
/// returns once every replica is `streaming` in the primary's `pg_stat_replication` and has replayed the
/// primary's position.
///
/// Every method is bounded (commands are killed at their deadline) and runs processes on dedicated
/// threads, never on the concurrency pool.
public actor PostgresCluster {
    /// The superuser the servers were initialised with (`initdb -U postgres`).
    public static let superuser = "postgres"
    /// LOGIN role, member of `pg_monitor`: what the lag monitor connects as.
    public static let monitorRole = "switchyard_monitor"
    /// The database created on the primary (and replicated).
    public static let database = "app"
    /// `(id bigserial primary key, payload text, written_at timestamptz)` in ``database``, filled by
    /// ``writeLoop(rows:pause:on:)``; `SELECT` is granted to ``monitorRole``.
    public static let writeTable = "switchyard_fixture_writes"

    /// The cluster's private temporary directory (removed by ``shutdown()``).
    public nonisolated let directory: String
    public nonisolated let primary: PostgresNode
    public nonisolated let replicas: [PostgresNode]
    /// How long ``start(replicas:options:)`` took, step by step.
    public nonisolated let startTimings: StartTimings
    /// `postgres --version` of the binaries used.
    public nonisolated let serverVersion: String
    nonisolated let control: PostgresServerControl

    /// Processes frozen by ``sigstop(_:scope:)``, by node name.
    private var frozen: [String: [PostgresProcessIdentity]] = [:]
    /// `primary_conninfo` of replicas whose receiver was cut, by node name.
    private var savedPrimaryConninfo: [String: String] = [:]
    private var shutdownTask: Task<Void, Never>?

    /// The primary followed by the replicas.
    public nonisolated var nodes: [PostgresNode] {
        [self.primary] + self.replicas
    }

    /// True once ``shutdown()`` has been called.
    public var isShutDown: Bool {
        self.shutdownTask != nil
    }

    private init(
        control: PostgresServerControl,
        primary: PostgresNode,
        replicas: [PostgresNode],
        startTimings: StartTimings
    ) {
        self.control = control
        self.directory = control.directory
        self.primary = primary
        self.replicas = replicas
        self.startTimings = startTimings
        self.serverVersion = control.installation.versionString
    }

    deinit {
        // A safety net for a test that forgot `shutdown()`: ask every postmaster of this cluster for an
        // immediate shutdown (SIGQUIT) so no server outlives the test process. The directory stays.
        if self.shutdownTask == nil {
            for node in [self.primary] + self.replicas {
                let tree = PostgresProcessTree.tree(of: node.dataDirectory)
                PostgresProcessTree.send(SIGCONT, to: tree)
                PostgresProcessTree.send(SIGQUIT, to: Array(tree.prefix(1)))
            }
            self.control.logger.error("PostgresCluster released without shutdown(); its servers got SIGQUIT")
        }
    }

    // MARK: - Start

    /// Starts a primary and `replicas` (0–8) streaming replicas, each on its own random port; returns
    /// once every replica streams and has caught up. On any failure everything started so far is
    /// stopped and the directory removed before the error is thrown. Throws
    /// ``PostgresFixtureError/Code/serverBinariesMissing`` (with the `apt-get install` line) when
    /// PostgreSQL is not installed: tests never skip silently.
    public static func start(replicas replicaCount: Int = 1, options: Options = Options()) async throws -> PostgresCluster {
        guard (0...8).contains(replicaCount) else {
            throw PostgresFixtureError(.invalidArgument, "replicas must be 0...8, not \(replicaCount)")
        }
        let clock = ContinuousClock()
        let began = clock.now
        var lap = began
        func takeLap() -> Duration {
            let now = clock.now
            defer { lap = now }
            return lap.duration(to: now)
        }
        var timings = StartTimings()

        let installation = try await PostgresInstallation.discover(binDirectory: options.binDirectory)
        await PostgresOrphanReaper.reapOnce(
            in: options.baseDirectory,
            installation: installation,
            options: options,
            logger: options.logger
        )
        let directory = try await BlockingIO.run {
            try PostgresServerControl.makeDirectory(base: options.baseDirectory, owner: installation.owner)
        }
        timings.discovery = takeLap()
        var logger = options.logger
        logger[metadataKey: "pg_cluster"] = "\(directory)"
        let control = PostgresServerControl(installation: installation, options: options, logger: logger, directory: directory)
        let replicaNames = (0..<replicaCount).map { "replica\($0 + 1)" }

        do {
            try await control.initdb("primary")
            try control.appendClusterConfiguration("primary")
            timings.initdb = takeLap()

            let primaryPort = try await control.startServer("primary", fixedPort: nil)
            timings.primaryStart = takeLap()

            _ = try await control.psql(
                port: primaryPort,
                """
                CREATE ROLE \(Self.monitorRole) LOGIN;
                GRANT pg_monitor TO \(Self.monitorRole);
                CREATE DATABASE \(Self.database);
                \\connect \(Self.database)
                CREATE TABLE \(Self.writeTable) (
                    id bigserial PRIMARY KEY,
                    payload text NOT NULL,
                    written_at timestamptz NOT NULL DEFAULT clock_timestamp()
                );
                GRANT SELECT ON \(Self.writeTable) TO \(Self.monitorRole);
                """,
                database: "postgres"
            )
            timings.setup = takeLap()

            try await control.createSlots(replicaNames, primaryPort: primaryPort)
            let replicaPorts = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for name in replicaNames {
                    group.addTask {
                        try await control.baseBackup(name, primaryPort: primaryPort)
                        return (name, try await control.startServer(name, fixedPort: nil))
                    }
                }
                var ports: [String: Int] = [:]
                for try await (name, port) in group {
                    ports[name] = port
                }
                return ports
            }
            timings.replicas = takeLap()

            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, port) in replicaPorts {
                    group.addTask {
                        _ = try await control.waitUntilStreaming(
                            name,
                            port: port,
                            primaryPort: primaryPort,
                            timeout: options.replicationTimeout
                        )
                    }
                }
                try await group.waitForAll()
            }
            timings.catchUp = takeLap()
            timings.total = began.duration(to: clock.now)

            let primary = control.node("primary", role: .primary, port: primaryPort)
            let replicas = replicaNames.compactMap { name in
                replicaPorts[name].map { control.node(name, role: .replica, port: $0) }
            }
            logger.info(
                "PostgreSQL cluster started",
                metadata: [
                    "nodes": "\(([primary] + replicas).map(\.description).joined(separator: ", "))",
                    "timings": "\(timings)",
                    "version": "\(installation.versionString)",
                ]
            )
            return PostgresCluster(control: control, primary: primary, replicas: replicas, startTimings: timings)
        } catch {
            logger.error("PostgreSQL cluster failed to start; tearing it down", metadata: ["error": "\(error)"])
            await control.tearDown(names: ["primary"] + replicaNames)
            throw error
        }
    }

    // MARK: - Shutdown

    /// Stops every server of the cluster (SIGCONT to frozen processes first, then `pg_ctl stop -m immediate`,
    /// then SIGKILL for anything of its own process trees that is left), removes the directory and releases
    /// the ports. Safe to call more than once and concurrently: later calls wait for the first one.
    /// Afterwards every other method throws ``PostgresFixtureError/Code/clusterShutDown``.
    public func shutdown() async {
        if let shutdownTask = self.shutdownTask {
            await shutdownTask.value
            return
        }
        let control = self.control
        let names = self.nodes.map(\.name)
        self.frozen.removeAll()
        let task = Task {
            let clock = ContinuousClock()
            let began = clock.now
            await control.tearDown(names: names)
            control.logger.info("PostgreSQL cluster shut down", metadata: ["duration": "\(began.duration(to: clock.now))"])
        }
        self.shutdownTask = task
        await task.value
    }

    // MARK: - Helpers for the other files

    /// Throws unless the cluster is running and `node` is one of its nodes.
    func validate(_ node: PostgresNode) throws {
        guard self.shutdownTask == nil else {
            throw PostgresFixtureError(.clusterShutDown, "the cluster in \(self.directory) has been shut down")
        }
        guard self.nodes.contains(node) else {
            throw PostgresFixtureError(.unknownNode, "\(node) (\(node.dataDirectory)) is not a node of the cluster in \(self.directory)")
        }
    }

    func setFrozen(_ processes: [PostgresProcessIdentity], for node: PostgresNode) {
        self.frozen[node.name, default: []].append(contentsOf: processes)
    }

    /// Drops processes that exited instead of stopping from `node`'s frozen list.
    func forgetFrozen(_ processes: Set<PostgresProcessIdentity>, for node: PostgresNode) {
        self.frozen[node.name]?.removeAll { processes.contains($0) }
    }

    func takeFrozen(for node: PostgresNode) -> [PostgresProcessIdentity] {
        self.frozen.removeValue(forKey: node.name) ?? []
    }

    func frozenList(of node: PostgresNode) -> [PostgresProcessIdentity] {
        self.frozen[node.name] ?? []
    }

    func savePrimaryConninfo(_ conninfo: String, for node: PostgresNode) {
        if self.savedPrimaryConninfo[node.name] == nil {
            self.savedPrimaryConninfo[node.name] = conninfo
        }
    }

    func savedConninfo(for node: PostgresNode) -> String? {
        self.savedPrimaryConninfo[node.name]
    }

    func forgetPrimaryConninfo(for node: PostgresNode) {
        self.savedPrimaryConninfo[node.name] = nil
    }
}

extension PostgresServerControl {
    func node(_ name: String, role: PostgresNode.Role, port: Int) -> PostgresNode {
        PostgresNode(
            name: name,
            role: role,
            port: port,
            dataDirectory: self.dataDirectory(name),
            socketDirectory: self.socketDirectory,
            logFile: self.logFile(name)
        )
    }
}
