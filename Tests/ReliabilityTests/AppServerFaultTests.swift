import SwitchyardTestSupport
import Testing

/// App-server faults under load (issue #7): a load generator keeps `loadClients` requests in
/// flight through the in-process proxy while app servers are killed, restarted, hang or reset.
@Suite("Reliability: app-server faults under load", .serialized, .heavyLoad)
struct AppServerFaultTests {
    let scale = ReliabilityScale.current

    static func loadOptions(_ stack: InProcessStack, clients: Int, duration: Duration) -> LoadGenerator.Options {
        LoadGenerator.Options(port: stack.port, clients: clients, requestsPerClient: 1_000_000, duration: duration, requestTimeout: .seconds(20))
    }

    @Test func aReplicaAppServerKilledAndRestartedFailsNoGET() async throws {
        let stack = try await InProcessStack.start()
        let load = LoadGenerator.start(Self.loadOptions(stack, clients: self.scale.loadClients, duration: self.scale.phase * 4)) { client, n in
            LoadRequest(path: "/r/\(client)/\(n)")
        }
        let victim = stack.replicaA[0]
        try await eventually("load reaches a1", timeout: .seconds(20)) { victim.requestCount > 50 }
        // Killed like a crashed process: its connections are reset, its port refuses.
        await victim.stop(resetConnections: true)
        let killedAt = load.secondsSinceStart
        try await Task.sleep(for: self.scale.phase)
        let restarted = try await FakeAppServer.start(name: "a1-restarted", port: victim.port)
        let restartedAt = ContinuousClock.now
        // Back after fail_timeout (1 s): the bound follows from the configuration, with slack.
        try await eventually("the restarted a1 serves again", timeout: .seconds(20)) { restarted.requestCount > 10 }
        let backAfter = ReliabilityReport.seconds(ContinuousClock.now - restartedAt)
        let summary = try await load.wait()
        await restarted.stop()
        await stack.stop()

        #expect(summary.total > 0)
        #expect(summary.failed == 0, "\(summary)")
        ReliabilityReport.record(
            test: "aReplicaAppServerKilledAndRestartedFailsNoGET", fault: "one replica-backed app server killed (RST) and restarted",
            measured: "failed GETs under \(self.scale.loadClients) concurrent clients; time until the restarted server serves again",
            result: "\(summary.failed) failed of \(summary.total) GETs; back in \(String(format: "%.1f", backAfter)) s (fail_timeout 1 s); p99 \(ReliabilityReport.ms(LoadSummary.percentileMilliseconds(99, of: summary.samples)))",
            figures: ["requests": Double(summary.total), "failed": Double(summary.failed), "back_after_s": backAfter, "killed_at_s": killedAt])
    }

    /// Failed GETs that started outside the first `connectTimeout` seconds after `kill`, and inside.
    static func failures(_ summary: LoadSummary, after kill: Double, connectTimeout: Double = 0.5) -> (after: Int, inside: Int) {
        let failed = summary.samples.filter { !$0.ok && $0.start >= kill }
        let inside = failed.filter { $0.start < kill + connectTimeout }.count
        return (failed.count - inside, inside)
    }

    @Test func everyServerOfOneReplicaKilledMovesReadsToTheOtherReplica() async throws {
        let stack = try await InProcessStack.start(withReplicaB: true)
        let load = LoadGenerator.start(Self.loadOptions(stack, clients: self.scale.loadClients, duration: self.scale.phase * 3)) { client, n in
            LoadRequest(path: "/r/\(client)/\(n)")
        }
        try await eventually("load on both replicas", timeout: .seconds(20)) {
            stack.replicaA.allSatisfy { $0.requestCount > 20 } && stack.replicaB.allSatisfy { $0.requestCount > 20 }
        }
        let kill = load.secondsSinceStart
        for server in stack.replicaA { await server.stop(resetConnections: true) }
        let bBefore = stack.replicaB.reduce(0) { $0 + $1.requestCount }
        try await eventually("reads on replica-b", timeout: .seconds(20)) { stack.replicaB.reduce(0) { $0 + $1.requestCount } > bBefore + 200 }
        // Several fail_timeouts (1 s) go by: the dead servers are tried again each time.
        let summary = try await load.wait()
        let failed = Self.failures(summary, after: kill)
        let before = summary.samples.filter { !$0.ok && $0.start < kill }.count
        await stack.stop()

        #expect(before == 0, "\(summary)")
        #expect(failed.after == 0, "\(summary)")
        ReliabilityReport.record(
            test: "everyServerOfOneReplicaKilledMovesReadsToTheOtherReplica",
            fault: "all app servers of one replica killed (another replica up)",
            measured: "failed GETs after the first connect_timeout (500 ms) following the kill, and inside it",
            result: "\(failed.after) failed after the first connect_timeout (\(failed.inside) inside it) of \(summary.total) GETs; reads moved to the other replica",
            figures: ["requests": Double(summary.total), "failed_after": Double(failed.after), "failed_in_window": Double(failed.inside)])
    }

    /// Regression: with every replica app server dead, a read whose tries all land on dead
    /// replica servers (each time fail_timeout lets them be tried again) was answered 502 instead
    /// of falling back to the primary as SPEC §3 step 4 says for a replica with no server up.
    @Test
    func everyServerOfTheOnlyReplicaKilledMovesReadsToThePrimary() async throws {
        let stack = try await InProcessStack.start()
        let load = LoadGenerator.start(Self.loadOptions(stack, clients: self.scale.loadClients, duration: self.scale.phase * 3)) { client, n in
            LoadRequest(path: "/r/\(client)/\(n)")
        }
        try await eventually("load on replica-a", timeout: .seconds(20)) { stack.replicaA.allSatisfy { $0.requestCount > 20 } }
        let kill = load.secondsSinceStart
        for server in stack.replicaA { await server.stop(resetConnections: true) }
        let pBefore = stack.primaries.reduce(0) { $0 + $1.requestCount }
        try await eventually("reads on the primary", timeout: .seconds(20)) { stack.primaries.reduce(0) { $0 + $1.requestCount } > pBefore + 200 }
        let summary = try await load.wait()
        let failed = Self.failures(summary, after: kill)
        await stack.stop()

        #expect(failed.after == 0, "\(summary)")
        ReliabilityReport.record(
            test: "everyServerOfTheOnlyReplicaKilledMovesReadsToThePrimary",
            fault: "all app servers of the only replica killed",
            measured: "failed GETs after the first connect_timeout (500 ms) following the kill, and inside it",
            result: "\(failed.after) failed after the first connect_timeout (\(failed.inside) inside it) of \(summary.total) GETs",
            figures: ["requests": Double(summary.total), "failed_after": Double(failed.after), "failed_in_window": Double(failed.inside)])
    }

    @Test func aServerThatNeverAnswersGets504WithinResponseTimeoutOthersUnaffected() async throws {
        let stack = try await InProcessStack.start(withReplicaB: true)
        for server in stack.replicaA { server.setBehavior(.hang, forPath: "/hang") }
        let load = LoadGenerator.start(Self.loadOptions(stack, clients: self.scale.loadClients, duration: self.scale.phase * 3)) { client, n in
            LoadRequest(path: "/r/\(client)/\(n)")
        }
        try await eventually("load flowing", timeout: .seconds(20)) { load.completed > 200 }
        // Hanging requests, pinned to replica-a's servers by hand-picked paths: each must get 504.
        let hangs = 20
        let port = stack.port
        let results = await withTaskGroup(of: (status: Int, seconds: Double).self) { group in
            for index in 0..<hangs {
                group.addTask {
                    let client = TestHTTPClient(port: port, timeout: .seconds(30), defaultHeaders: [("Host", "t")])
                    let started = ContinuousClock.now
                    let status = (try? await client.get("/hang?n=\(index)").status) ?? 0
                    return (status, ReliabilityReport.seconds(ContinuousClock.now - started))
                }
            }
            var collected: [(status: Int, seconds: Double)] = []
            for await outcome in group { collected.append(outcome) }
            return collected
        }
        load.stop()
        let summary = try await load.wait()
        await stack.stop()

        let hungReachedAnApp = results.count
        let got504 = results.filter { $0.status == 504 }.count
        // A /hang read that went to replica-b is answered 200 (only replica-a hangs): both are fine,
        // but every one that hit replica-a must be a 504 and none may wait past the bound.
        let other = results.filter { $0.status != 504 && $0.status != 200 }
        let slowest = results.map(\.seconds).max() ?? 0
        #expect(other.isEmpty, "unexpected statuses: \(other)")
        #expect(got504 > 0)
        // response_timeout 2 s; the bound is generous for a loaded 2-core machine.
        #expect(slowest < 2 + 15, "a hung request waited \(slowest) s")
        #expect(summary.failed == 0, "\(summary)")
        ReliabilityReport.record(
            test: "aServerThatNeverAnswersGets504WithinResponseTimeoutOthersUnaffected",
            fault: "app server accepts and never answers (response_timeout 2 s)",
            measured: "status and wait of \(hangs) hanging requests; failed requests among the concurrent load",
            result: "\(got504) of \(hungReachedAnApp) hanging requests got 504 (the rest were served by replica-b), slowest after \(String(format: "%.2f", slowest)) s; \(summary.failed) failed of \(summary.total) other requests, p99 \(ReliabilityReport.ms(LoadSummary.percentileMilliseconds(99, of: summary.samples)))",
            figures: ["hung_504": Double(got504), "slowest_s": slowest, "requests": Double(summary.total), "failed": Double(summary.failed)])
    }

    @Test func aResetMidResponseTruncatesOnlyThatClient() async throws {
        let stack = try await InProcessStack.start()
        for server in stack.replicaA { server.setBehavior(.resetMidResponse(afterBytes: 1_000), forPath: "/reset") }
        let load = LoadGenerator.start(Self.loadOptions(stack, clients: self.scale.loadClients, duration: self.scale.phase * 3)) { client, n in
            LoadRequest(path: "/r/\(client)/\(n)")
        }
        try await eventually("load flowing", timeout: .seconds(20)) { load.completed > 200 }
        var truncatedAndClosed = 0
        var problems: [String] = []
        let attempts = 20
        for attempt in 0..<attempts {
            let client = try await RawHTTPClient.connect(port: stack.port, timeout: .seconds(20))
            // A normal exchange first, so the reset lands on a kept-alive connection.
            try await client.send("GET /before/\(attempt) HTTP/1.1\r\nHost: t\r\n\r\n")
            let before = try await client.readResponse()
            guard before.status == 200 else {
                problems.append("attempt \(attempt): first response \(before.status)")
                continue
            }
            try await client.send("GET /reset HTTP/1.1\r\nHost: t\r\n\r\n")
            let bytes = try await client.readUntilClose()
            client.close()
            if let problem = Self.checkTruncated(bytes, announced: 1_000 + FakeAppServer.Behavior.resetMidResponseMissingBytes, sent: 1_000) {
                problems.append("attempt \(attempt): \(problem)")
            } else {
                truncatedAndClosed += 1
            }
        }
        load.stop()
        let summary = try await load.wait()
        await stack.stop()

        #expect(problems.isEmpty, "\(problems)")
        #expect(truncatedAndClosed == attempts)
        #expect(summary.failed == 0, "\(summary)")
        ReliabilityReport.record(
            test: "aResetMidResponseTruncatesOnlyThatClient", fault: "app server resets mid-response",
            measured: "what the client of that response receives (one head, a prefix of the body, then close); failed requests among the concurrent load",
            result: "\(truncatedAndClosed) of \(attempts) clients saw one truncated 200 then a closed connection (no spliced or duplicated bytes); \(summary.failed) failed of \(summary.total) other requests",
            figures: ["truncated_closed": Double(truncatedAndClosed), "attempts": Double(attempts), "requests": Double(summary.total), "failed": Double(summary.failed)])
    }

    /// nil when `bytes` is exactly one response head announcing `announced` bytes followed by a
    /// prefix (at most `sent` bytes) of the fake server's body pattern, and nothing else.
    static func checkTruncated(_ bytes: [UInt8], announced: Int, sent: Int) -> String? {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            return "no complete head in \(bytes.count) bytes"
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 200") else { return "head: \(head.prefix(60))" }
        guard head.lowercased().contains("content-length: \(announced)") else { return "head without content-length \(announced): \(head)" }
        let body = Array(bytes[(end + 4)...])
        guard body.count <= sent, body.count < announced else { return "body of \(body.count) bytes, the app sent \(sent)" }
        for (index, byte) in body.enumerated() where byte != UInt8(truncatingIfNeeded: index) {
            return "body byte \(index) is \(byte): spliced"
        }
        return nil
    }

    @Test func postsAreNeverDuplicatedWhileAPrimaryServerDies() async throws {
        let stack = try await InProcessStack.start()
        for server in stack.primaries { server.setBehavior(.delay(.milliseconds(5), then: .echo)) }
        let load = LoadGenerator.start(Self.loadOptions(stack, clients: self.scale.loadClients, duration: self.scale.phase * 3)) { client, n in
            LoadRequest(method: "POST", path: "/orders/\(client)-\(n)", body: Array("order \(client)-\(n)".utf8))
        }
        let victim = stack.primaries[0]
        try await eventually("POSTs reach p1", timeout: .seconds(20)) { victim.requestCount > 50 }
        await victim.stop(resetConnections: true)
        try await Task.sleep(for: self.scale.phase)
        let restarted = try await FakeAppServer.start(name: "p1-restarted", port: victim.port)
        try await eventually("the restarted p1 takes POSTs", timeout: .seconds(20)) { restarted.requestCount > 10 }
        let summary = try await load.wait()
        let records = (stack.primaries + [restarted]).flatMap(\.requests)
        await restarted.stop()
        await stack.stop()

        var seen: [String: Int] = [:]
        for record in records where record.method == "POST" { seen[record.uri, default: 0] += 1 }
        let duplicated = seen.values.filter { $0 > 1 }.count
        let succeeded = summary.samples.filter(\.ok)
        let missing = succeeded.filter { seen["/orders/\($0.client)-\($0.sequence)"] != 1 }.count
        #expect(duplicated == 0)
        #expect(missing == 0, "a POST answered 2xx must have reached the app exactly once")
        ReliabilityReport.record(
            test: "postsAreNeverDuplicatedWhileAPrimaryServerDies", fault: "POSTs while a primary app server is killed (RST) and restarted",
            measured: "POSTs received per unique id at the app servers",
            result: "\(duplicated) duplicated of \(seen.count) POSTs received; \(summary.succeeded) answered 2xx, each received exactly once; \(summary.failed) failed (in flight on the killed server, not retried)",
            figures: ["posts_received": Double(seen.count), "duplicated": Double(duplicated), "succeeded": Double(summary.succeeded), "failed": Double(summary.failed)])
    }
}
