import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `switchyard serve` binary as a child process (real signals, its own memory and
/// descriptors) in front of app servers the test runs.
final class ServeStack: Sendable {
    static let root: String = {
        // Tests/ReliabilityTests/ServeStack.swift → the package root.
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// `SWITCHYARD_BIN_DIR` (deploy/reliability/run.sh sets it), else the debug build of this package.
    static var binary: String {
        if let directory = getenv("SWITCHYARD_BIN_DIR").map({ String(cString: $0) }), !directory.isEmpty {
            return directory + "/switchyard"
        }
        return Self.root + "/.build/debug/switchyard"
    }

    struct Setup: Sendable {
        var primaryPorts: [Int]
        var replicaPorts: [Int]
        /// libpq conninfo of the primary and the replica; port 1 (nothing) by default, so the replica
        /// is unreachable and reads fall back to the primary.
        var primaryDatabase = "host=127.0.0.1 port=1 dbname=app connect_timeout=1"
        var replicaDatabase = "host=127.0.0.1 port=1 dbname=app connect_timeout=1"
        var clients = ""
        var upstream = "{ connect_timeout: 500ms, response_timeout: 10s, fail_timeout: 1s }"
        var lag = "{ query_timeout: 200ms, poll_interval: 200ms }"
        var rule = false
        var decisions = true
        var pinMode = "ttl"
    }

    let setup: Setup
    let port: Int
    let adminPort: Int
    let configPath: String
    let process: BackgroundProcess

    private init(setup: Setup, port: Int, adminPort: Int, configPath: String, process: BackgroundProcess) {
        self.setup = setup
        self.port = port
        self.adminPort = adminPort
        self.configPath = configPath
        self.process = process
    }

    static func yaml(_ setup: Setup, port: Int, adminPort: Int) -> String {
        let primary = setup.primaryPorts.map { "127.0.0.1:\($0)" }.joined(separator: ", ")
        let replica = setup.replicaPorts.map { "127.0.0.1:\($0)" }.joined(separator: ", ")
        var text = """
            listen: 127.0.0.1:\(port)
            drain_timeout: 10s
            admin: { listen: 127.0.0.1:\(adminPort), token_env: null }
            log: { decision_header: true, decisions: \(setup.decisions) }
            primary:
              database: "\(setup.primaryDatabase)"
              servers: [\(primary)]
            replicas:
              - name: replica-a
                database: "\(setup.replicaDatabase)"
                servers: [\(replica)]
            pin: { mode: \(setup.pinMode), ttl: 10s }
            lag: \(setup.lag)
            upstream: \(setup.upstream)

            """
        if !setup.clients.isEmpty {
            text += "clients: \(setup.clients)\n"
        }
        text += "routing:\n  on_no_replica: primary\n"
        if setup.rule {
            text += "  rules: [{ name: reload-rule, match: { path_prefix: /never-used }, route: primary }]\n"
        }
        return text
    }

    static func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw ShellCommandError(message: "cannot write \(path)") }
        defer { fclose(file) }
        fputs(text, file)
    }

    /// Starts the binary and waits for its "switchyard listening" line. The ports are probed free
    /// and then bound by the child a moment later, so another socket can take one in between: a
    /// start that fails with "Address already in use" is tried again on fresh ports.
    static func start(_ setup: Setup, name: String) async throws -> ServeStack {
        guard access(Self.binary, X_OK) == 0 else {
            throw ShellCommandError(message: "\(Self.binary) is missing: run `swift build` first (or set SWITCHYARD_BIN_DIR)")
        }
        let path = "/tmp/sy-rel-\(name)-\(getpid()).yaml"
        var attempt = 1
        while true {
            let ports = FakeAppServer.unusedPorts(2)
            let (port, adminPort) = (ports[0], ports[1])
            try Self.write(Self.yaml(setup, port: port, adminPort: adminPort), to: path)
            let process = try BackgroundProcess.start(
                [Self.binary, "serve", "--config", path], environment: ["SWITCHYARD_PIN_SECRET": "reliability-secret"],
                outputPath: path + ".log")
            do {
                try await process.waitForOutput(containing: "\"switchyard listening\"", timeout: .seconds(30))
                return ServeStack(setup: setup, port: port, adminPort: adminPort, configPath: path, process: process)
            } catch let error as BackgroundProcessError where attempt < 3 && error.output.contains("Address already in use") {
                attempt += 1
            } catch {
                process.kill()
                throw error
            }
        }
    }

    /// Rewrites the configuration file (same ports) for a reload.
    func rewrite(_ change: (inout Setup) -> Void) throws {
        var setup = self.setup
        change(&setup)
        try Self.write(Self.yaml(setup, port: self.port, adminPort: self.adminPort), to: self.configPath)
    }

    var residentBytes: Int { ProcessMemory.residentBytes(pid: self.process.pid) }
    var openFileDescriptors: Int { ProcessMemory.openFileDescriptorCount(pid: self.process.pid) }

    func count(_ needle: String) -> Int {
        self.process.output.split(separator: needle, omittingEmptySubsequences: false).count - 1
    }

    /// SIGTERM and wait for the exit status (SIGKILL if it does not exit).
    @discardableResult
    func stop() async -> Int32 {
        self.process.signal(SIGTERM)
        let status = (try? await self.process.waitForExit(timeout: .seconds(30))) ?? -1
        self.process.kill()
        return status
    }

    /// Raises the soft descriptor limit of this process to `wanted` (or the hard limit);
    /// returns the soft limit now in force.
    static func raiseDescriptorLimit(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        let target = min(rlim_t(wanted), limit.rlim_max)
        if limit.rlim_cur < target {
            limit.rlim_cur = target
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }
}
