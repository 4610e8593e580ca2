import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Router restarts under load (issue #7), on the real binary with real signals.
@Suite("Reliability: SIGHUP and SIGTERM under load", .serialized, .heavyLoad)
struct RouterRestartTests {
    let scale = ReliabilityScale.current

    @Test func aReloadEverySecondUnderLoadFailsNothing() async throws {
        let primary = [try await FakeAppServer.start(name: "p1"), try await FakeAppServer.start(name: "p2")]
        let replica = [try await FakeAppServer.start(name: "a1")]
        let setup = ServeStack.Setup(primaryPorts: primary.map(\.port), replicaPorts: replica.map(\.port))
        let stack = try await ServeStack.start(setup, name: "reload")
        defer { stack.process.kill() }
        let reloads = self.scale.reloads
        let load = LoadGenerator.start(
            LoadGenerator.Options(port: stack.port, clients: self.scale.loadClients, requestsPerClient: 1_000_000, duration: .seconds(reloads + 30))
        ) { client, n in
            n % 5 == 0
                ? LoadRequest(method: "POST", path: "/w/\(client)/\(n)", body: Array("x".utf8), tag: 1)
                : LoadRequest(path: "/r/\(client)/\(n)")
        }
        try await eventually("load flowing", timeout: .seconds(20)) { load.completed > 200 }
        for index in 0..<reloads {
            // Every reload really changes the configuration (a rule comes and goes).
            try stack.rewrite { $0.rule = index % 2 == 0 }
            stack.process.signal(SIGHUP)
            try await eventually("reload \(index + 1) applied", timeout: .seconds(20)) {
                stack.count("\"configuration reloaded\"") >= index + 1
            }
            try await Task.sleep(for: .seconds(1))
        }
        load.stop()
        let summary = try await load.wait()
        let exit = await stack.stop()
        for server in primary + replica { await server.stop() }

        #expect(summary.total > 0)
        #expect(summary.failed == 0, "\(summary)")
        #expect(stack.count("\"reload failed") == 0)
        #expect(exit == 0)
        ReliabilityReport.record(
            test: "aReloadEverySecondUnderLoadFailsNothing", fault: "SIGHUP reload every second under load",
            measured: "failed requests (GET + POST, \(self.scale.loadClients) concurrent clients) across \(reloads) reloads",
            result: "\(summary.failed) failed of \(summary.total) requests over \(reloads) reloads (all applied); \(summary.keepAliveRetries) keep-alive retries, \(summary.connectionsOpened) connections for \(self.scale.loadClients) clients",
            figures: ["requests": Double(summary.total), "failed": Double(summary.failed), "reloads": Double(reloads), "connections": Double(summary.connectionsOpened)])
    }

    @Test func aSIGTERMUnderLoadDrainsEveryRequestInFlight() async throws {
        let primary = [try await FakeAppServer.start(name: "p1"), try await FakeAppServer.start(name: "p2")]
        let replica = [try await FakeAppServer.start(name: "a1")]
        // Slow answers, so that many requests are in flight when the signal comes.
        for server in primary { server.setBehavior(.delay(.milliseconds(300), then: .echo)) }
        let setup = ServeStack.Setup(primaryPorts: primary.map(\.port), replicaPorts: replica.map(\.port))
        let stack = try await ServeStack.start(setup, name: "drain")
        defer { stack.process.kill() }
        let load = LoadGenerator.start(
            LoadGenerator.Options(port: stack.port, clients: self.scale.loadClients, requestsPerClient: 1_000_000, duration: .seconds(60))
        ) { client, n in
            LoadRequest(path: "/r/\(client)/\(n)")
        }
        try await eventually("load flowing", timeout: .seconds(30)) { load.completed > self.scale.loadClients * 5 }
        let inFlightAtSignal = primary.reduce(0) { $0 + $1.openConnectionCount }
        let signalAt = load.secondsSinceStart
        stack.process.signal(SIGTERM)
        let exit = try await stack.process.waitForExit(timeout: .seconds(30))
        let exitedAt = load.secondsSinceStart
        load.stop()
        let summary = try await load.wait()
        let reachedAnApp = Set((primary + replica).flatMap(\.requests).map(\.uri))
        for server in primary + replica { await server.stop() }

        // A request the router accepted must complete. Not accepted: connects refused once the
        // listener closed, and requests on connections that were idle when the drain began (the
        // router closes those; the request bytes arrived after) — those never reached an app.
        let failed = summary.samples.filter { !$0.ok && !$0.connectFailed }
        let unprocessed = failed.filter { $0.status == 0 && !reachedAnApp.contains("/r/\($0.client)/\($0.sequence)") }
        let failedInFlight = failed.filter { $0.status != 0 || reachedAnApp.contains("/r/\($0.client)/\($0.sequence)") }
        let startedBefore = summary.samples.filter { $0.start < signalAt && !$0.connectFailed }
        let startedBeforeFailed = startedBefore.filter { !$0.ok }.count
        let refused = summary.samples.filter(\.connectFailed).count
        #expect(exit == 0)
        #expect(startedBeforeFailed == 0, "\(startedBefore.filter { !$0.ok })")
        #expect(failedInFlight.isEmpty, "signal at \(signalAt) s: \(failedInFlight)")
        ReliabilityReport.record(
            test: "aSIGTERMUnderLoadDrainsEveryRequestInFlight", fault: "SIGTERM under load (app answers in 300 ms)",
            measured: "failed requests among those the router accepted; exit status; drain time",
            result: "\(failedInFlight.count) failed of \(summary.total - refused - unprocessed.count) accepted requests (\(inFlightAtSignal) upstream connections busy at the signal); exit \(exit) after \(String(format: "%.2f", exitedAt - signalAt)) s; not accepted: \(refused) connects refused, \(unprocessed.count) requests on connections idle at the signal reset unread (never reached an app)",
            figures: ["accepted": Double(summary.total - refused - unprocessed.count), "failed_in_flight": Double(failedInFlight.count), "drain_s": exitedAt - signalAt, "unprocessed": Double(unprocessed.count)])
    }
}
