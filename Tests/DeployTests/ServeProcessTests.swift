import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `switchyard` binary itself, driven with real signals: SIGHUP reloads
/// (and keeps the running configuration on an invalid file), SIGTERM drains a
/// request in flight and exits 0; bad start-ups exit 1 with one line on stderr.
@Suite("switchyard serve as a process", .serialized, .heavyLoad)
struct ServeProcessTests {
    static let binary = DemoScriptTests.root + "/.build/debug/switchyard"

    static func config(router: Int, admin: Int, primary: Int, replica: Int, rule: Bool) -> String {
        """
        listen: 127.0.0.1:\(router)
        drain_timeout: 5s
        admin: { listen: 127.0.0.1:\(admin), token_env: null }
        primary:
          database: "host=127.0.0.1 port=1 dbname=app connect_timeout=1"
          servers: [127.0.0.1:\(primary)]
        replicas:
          - name: replica-a
            database: "host=127.0.0.1 port=1 dbname=app connect_timeout=1"
            servers: [127.0.0.1:\(replica)]
        routing:
          on_no_replica: primary
        \(rule ? "  rules: [{ name: all-primary, match: { path_prefix: / }, route: primary }]" : "")
        pin: { mode: ttl }
        lag: { query_timeout: 200ms, poll_interval: 200ms }
        """
    }

    static func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw ShellCommandError(message: "cannot write \(path)") }
        defer { fclose(file) }
        fputs(text, file)
    }

    static func freePort() -> Int { FakeAppServer.unusedPort() }

    /// A primary and a replica app server, and free ports for the router and its admin listener.
    struct Stack {
        let primary: FakeAppServer
        let replica: FakeAppServer
        let router: Int
        let admin: Int

        static func start() async throws -> Stack {
            let primary = try await FakeAppServer.start(name: "p1")
            let replica = try await FakeAppServer.start(name: "r1")
            let ports = FakeAppServer.unusedPorts(2)
            return Stack(primary: primary, replica: replica, router: ports[0], admin: ports[1])
        }

        func config(rule: Bool = false) -> String {
            ServeProcessTests.config(router: self.router, admin: self.admin, primary: self.primary.port, replica: self.replica.port, rule: rule)
        }

        func stop() async {
            await self.primary.stop()
            await self.replica.stop()
        }
    }

    /// `switchyard serve` on the file at `path`, once it logs that it listens.
    static func serve(_ path: String) async throws -> BackgroundProcess {
        let process = try BackgroundProcess.start(
            [Self.binary, "serve", "--config", path], environment: ["SWITCHYARD_PIN_SECRET": "s"], outputPath: path + ".log")
        do {
            try await process.waitForOutput(containing: "\"switchyard listening\"", timeout: .seconds(20))
        } catch {
            process.kill()
            throw error
        }
        return process
    }

    /// The process's event-loop threads (NIO names them `NIO-ELT-...`).
    static func eventLoopThreads(_ pid: Int32) -> Int {
        ProcessMemory.threadNames(pid: pid).filter { $0.hasPrefix("NIO-ELT-") }.count
    }

    @Test func reloadOnSIGHUPAndDrainOnSIGTERM() async throws {
        let stack = try await Stack.start()
        let (primary, router, admin) = (stack.primary, stack.router, stack.admin)
        let path = "/tmp/sy-serve-\(getpid()).yaml"
        try Self.write(stack.config(), to: path)
        let process = try await Self.serve(path)
        defer { process.kill() }

        // The replica database is unreachable here, so reads fall back to the primary; a rule changes the reason.
        let client = TestHTTPClient(port: router, defaultHeaders: [("Host", "t")])
        #expect(try await client.get("/a").status == 200)

        try Self.write(stack.config(rule: true), to: path)
        process.signal(SIGHUP)
        try await eventually("reloaded", timeout: .seconds(10)) { process.output.contains("\"configuration reloaded\"") }
        #expect(try await client.get("/b").status == 200)
        try await eventually(timeout: .seconds(5)) { process.output.contains("\"reason\":\"rule:all-primary\"") }

        // An invalid file: logged with its problems; the running configuration stays.
        try Self.write("listen: nonsense\nbogus: 1\n", to: path)
        process.signal(SIGHUP)
        try await eventually("reload failed", timeout: .seconds(10)) { process.output.contains("\"reload failed; keeping the running configuration\"") }
        #expect(process.output.contains("unknown key 'bogus'"))
        #expect(try await client.get("/c").status == 200)
        try await eventually(timeout: .seconds(5)) { process.output.components("\"reason\":\"rule:all-primary\"") >= 2 }

        // The dashboard shows those decisions, newest first, as the request path recorded them.
        try await eventually("decisions on the dashboard", timeout: .seconds(5)) {
            let body = (try? await TestHTTPClient(port: admin).get("/dashboard.json").bodyString) ?? ""
            guard let c = body.range(of: #""path":"/c""#), let b = body.range(of: #""path":"/b""#),
                let a = body.range(of: #""path":"/a""#)
            else { return false }
            return c.lowerBound < b.lowerBound && b.lowerBound < a.lowerBound
                && body.components(#""reason":"rule:all-primary""#) == 2
        }

        // SIGTERM with a slow request in flight: it completes with 200, /healthz says 503 meanwhile, exit 0.
        primary.setBehavior(.delay(.seconds(1), then: .echo))
        let slow = Task { try await TestHTTPClient(port: router, defaultHeaders: [("Host", "t")]).get("/slow") }
        try await eventually("slow request at the app", timeout: .seconds(5)) { primary.lastRequest?.uri == "/slow" }
        process.signal(SIGTERM)
        try await eventually("healthz 503 while draining", timeout: .seconds(5)) {
            (try? await TestHTTPClient(port: admin).get("/healthz").status) == 503
        }
        let response = try await slow.value
        #expect(response.status == 200)
        #expect(try await process.waitForExit(timeout: .seconds(15)) == 0)
        #expect(process.output.contains("\"msg\":\"stopped\""))
        await stack.stop()
    }

    /// `event_loops: 3` starts three event loops (the admin listener's threads
    /// are NIO's singleton `NIO-SGLTN-...`, not counted),
    /// whatever the CPU count; a reload cannot change it and says so.
    @Test func eventLoopsSetsTheThreadCountUntilARestart() async throws {
        let stack = try await Stack.start()
        let path = "/tmp/sy-loops-\(getpid()).yaml"
        let base = stack.config()
        try Self.write("event_loops: 3\n" + base, to: path)
        let process = try await Self.serve(path)
        defer { process.kill() }
        #expect(process.output.contains("\"event_loops\":\"3\""))
        #expect(Self.eventLoopThreads(process.pid) == 3)

        try Self.write("event_loops: 1\n" + base, to: path)
        process.signal(SIGHUP)
        try await eventually("reloaded", timeout: .seconds(10)) { process.output.contains("\"configuration reloaded\"") }
        #expect(process.output.contains("reload: event_loops changed; this needs a restart and is ignored"))
        #expect(Self.eventLoopThreads(process.pid) == 3)
        // Requests land on every loop (connections are spread over them) and are served.
        for index in 0..<6 {
            let client = TestHTTPClient(port: stack.router, defaultHeaders: [("Host", "t")])
            #expect(try await client.get("/loop/\(index)").status == 200)
        }
        process.signal(SIGTERM)
        #expect(try await process.waitForExit(timeout: .seconds(15)) == 0)
        await stack.stop()
    }

    @Test func startUpErrorsExit1WithOneLine() async throws {
        let path = "/tmp/sy-bad-\(getpid()).yaml"
        try Self.write("listen: 127.0.0.1:1\nprimary: {}\n", to: path)
        let bad = try await ShellCommand.run([Self.binary, "serve", "--config", path], timeout: .seconds(20))
        #expect(bad.status == 1)
        #expect(bad.output.hasPrefix("switchyard: \(path):"))
        let missing = try await ShellCommand.run([Self.binary, "serve", "--config", "/nonexistent.yaml"], timeout: .seconds(20))
        #expect(missing.status == 1)
        let usage = try await ShellCommand.run([Self.binary, "serve"], environment: ["SWITCHYARD_CONFIG": ""], timeout: .seconds(20))
        #expect(usage.status == 2)

        // Port taken: exit 1 with a clear line.
        let squatter = try await FakeAppServer.start(name: "squatter")
        try Self.write(Self.config(router: squatter.port, admin: Self.freePort(), primary: 1, replica: 2, rule: false), to: path)
        let taken = try await ShellCommand.run([Self.binary, "serve", "--config", path], environment: ["SWITCHYARD_PIN_SECRET": "s"], timeout: .seconds(30))
        #expect(taken.status == 1)
        #expect(taken.output.contains("cannot listen on"))
        await squatter.stop()
    }

    @Test func checkPrintsTheSummaryOrEveryProblem() async throws {
        let good = try await ShellCommand.run([Self.binary, "check", "--config", DemoScriptTests.root + "/deploy/examples/local.yaml"], timeout: .seconds(20))
        #expect(good.status == 0)
        #expect(good.output == "config ok: 2 primary servers, 1 replicas, 0 rules\n")
        let path = "/tmp/sy-check-\(getpid()).yaml"
        try Self.write("listen: 1.2.3.4\nprimary: {}\nbogus: 1\n", to: path)
        let bad = try await ShellCommand.run([Self.binary, "check", "--config", path], timeout: .seconds(20))
        #expect(bad.status == 1)
        let lines = bad.output.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines.allSatisfy { $0.hasPrefix("\(path):") })
        #expect(lines.contains { $0.hasPrefix("\(path):3:1: unknown key 'bogus'") })
    }
}

extension String {
    func components(_ needle: String) -> Int {
        self.split(separator: needle, omittingEmptySubsequences: false).count - 1
    }
}

@Suite("switchyard serve as an unprivileged user", .heavyLoad)
struct UnprivilegedServeTests {
    /// Regression: TCP_NODELAY set at the wrong level failed with EACCES for a
    /// non-root user and every connection was dropped. The systemd unit and the
    /// Kubernetes manifests run it unprivileged, so a test does too.
    @Test func servesRequestsAsNobody() async throws {
        let directory = "/tmp/sy-nobody-\(getpid())"
        _ = try await ShellCommand.run(["/bin/mkdir", "-p", directory], timeout: .seconds(10))
        _ = try await ShellCommand.run(["/bin/cp", ServeProcessTests.binary, directory + "/switchyard"], timeout: .seconds(60))
        _ = try await ShellCommand.run(["/bin/chmod", "-R", "a+rX", directory], timeout: .seconds(10))
        let app = try await FakeAppServer.start(name: "p1")
        let ports = FakeAppServer.unusedPorts(2)
        let (router, admin) = (ports[0], ports[1])
        let path = directory + "/switchyard.yaml"
        try ServeProcessTests.write(ServeProcessTests.config(router: router, admin: admin, primary: app.port, replica: app.port, rule: false), to: path)
        _ = try await ShellCommand.run(["/bin/chmod", "a+r", path], timeout: .seconds(10))
        let process = try BackgroundProcess.start(
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", directory + "/switchyard", "serve", "--config", path],
            environment: ["SWITCHYARD_PIN_SECRET": "s"], outputPath: directory + "/serve.log")
        defer { process.kill() }
        try await process.waitForOutput(containing: "\"switchyard listening\"", timeout: .seconds(20))
        let response = try await TestHTTPClient(port: router, defaultHeaders: [("Host", "t")]).get("/as-nobody")
        #expect(response.status == 200)
        #expect(response.header("x-app-server") == "p1")
        #expect(try await TestHTTPClient(port: admin).get("/healthz").status == 200)
        process.signal(SIGTERM)
        #expect(try await process.waitForExit(timeout: .seconds(15)) == 0)
        await app.stop()
        _ = try await ShellCommand.run(["/bin/rm", "-rf", directory], timeout: .seconds(30))
    }
}
