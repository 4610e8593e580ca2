import Foundation
import SwitchyardCore
import SwitchyardTestSupport
import Testing

/// Hostile clients while normal traffic flows (issue #7), against the real binary so that its
/// memory and descriptors are its own: slowloris, thousands of idle keep-alive connections, a
/// flood of malformed heads, the request-smuggling corpus, forged and oversized pin cookies and
/// spoofed forwarding headers.
@Suite("Reliability: hostile clients while normal traffic flows", .serialized, .heavyLoad)
struct HostileClientTests {
    let scale = ReliabilityScale.current

    struct Apps {
        var primary: [FakeAppServer]
        var replica: [FakeAppServer]
        var all: [FakeAppServer] { self.primary + self.replica }

        static func start() async throws -> Apps {
            Apps(
                primary: [try await FakeAppServer.start(name: "p1"), try await FakeAppServer.start(name: "p2")],
                replica: [try await FakeAppServer.start(name: "a1")])
        }

        func stop() async {
            for server in self.all { await server.stop() }
        }

        /// Every request URI any app server received.
        var uris: [String] { self.all.flatMap(\.requests).map(\.uri) }
    }

    /// Normal traffic: GETs from a few keep-alive clients, every one must succeed.
    static func normalTraffic(_ stack: ServeStack, duration: Duration) -> LoadGenerator {
        LoadGenerator.start(LoadGenerator.Options(port: stack.port, clients: 16, requestsPerClient: 1_000_000, duration: duration)) { client, n in
            LoadRequest(path: "/normal/\(client)/\(n)")
        }
    }

    static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    @Test func slowlorisAndIdleKeepAliveConnectionsDoNotStarveNormalTraffic() async throws {
        let idleWanted = self.scale.idleConnections
        let slowWanted = self.scale.slowlorisConnections
        // Descriptors: the herds, the load, the fake servers' side of the router's upstream pools.
        let limit = ServeStack.raiseDescriptorLimit(to: idleWanted + slowWanted + 4_000)
        let idleTarget = min(idleWanted, max(0, limit - slowWanted - 4_000))
        if idleTarget < idleWanted {
            Issue.record("descriptor limit \(limit): \(idleTarget) idle connections instead of \(idleWanted) (raise `ulimit -n`)")
        }
        let apps = try await Apps.start()
        var setup = ServeStack.Setup(primaryPorts: apps.primary.map(\.port), replicaPorts: apps.replica.map(\.port))
        setup.clients = "{ header_timeout: 3s, idle_timeout: 120s, max_connections: \(idleTarget + slowWanted + 1_000) }"
        // A small upstream pool (8 idle per server per loop), so that the descriptors it keeps after
        // the burst of idle-connection requests are few and known.
        setup.upstream = "{ connect_timeout: 500ms, response_timeout: 10s, fail_timeout: 1s, keepalive: 8 }"
        setup.decisions = false
        let stack = try await ServeStack.start(setup, name: "herd")
        defer { stack.process.kill() }
        let load = Self.normalTraffic(stack, duration: .seconds(600))
        try await eventually("normal traffic flowing", timeout: .seconds(20)) { load.completed > 200 }
        let baselineRSS = stack.residentBytes
        let baselineFDs = stack.openFileDescriptors

        // Idle keep-alive connections: one request each, then silence.
        var idleHerds = try await Self.openIdle(idleTarget, port: stack.port)
        // Slowloris: a head that never ends, one more header line per second.
        let slow = try await BlockingIO.run { SocketHerd.open(count: slowWanted, port: stack.port, timeout: .seconds(10)) }
        slow.sendToAll(Array("GET /slowloris HTTP/1.1\r\nHost: t\r\n".utf8))
        let slowStarted = ContinuousClock.now
        var peakRSS = stack.residentBytes
        var peakFDs = stack.openFileDescriptors
        try await eventually("slowloris connections cut off", timeout: .seconds(60), pollEvery: .milliseconds(500)) {
            slow.sendToAll(Array("X-Slow: \(Int.random(in: 0..<1000))\r\n".utf8))
            slow.refresh()
            peakRSS = max(peakRSS, stack.residentBytes)
            peakFDs = max(peakFDs, stack.openFileDescriptors)
            return slow.openCount == 0
        }
        let cutAfter = ReliabilityReport.seconds(ContinuousClock.now - slowStarted)
        let got408 = slow.receivedCount(startingWith: "HTTP/1.1 408")
        // The idle ones are still there (idle_timeout 120 s) and normal traffic still flows.
        let idleOpen = idleHerds.reduce(0) { $0 + $1.refresh() }
        let completedBefore = load.completed
        try await eventually("normal traffic still flowing", timeout: .seconds(20)) { load.completed > completedBefore + 200 }
        peakRSS = max(peakRSS, stack.residentBytes)
        peakFDs = max(peakFDs, stack.openFileDescriptors)
        let idleCount = idleHerds.reduce(0) { $0 + $1.count }
        let slowCount = slow.count
        let idleFailures = idleHerds.reduce(0) { $0 + $1.connectFailures } + slow.connectFailures
        for herd in idleHerds { herd.closeAll() }
        slow.closeAll()
        // Back to the baseline plus at most the idle upstream pool (8 × 3 servers × 2 loops) and slack.
        try await eventually("router descriptors back down", timeout: .seconds(30), pollEvery: .milliseconds(200)) {
            stack.openFileDescriptors < baselineFDs + 48 + 100
        }
        let afterFDs = stack.openFileDescriptors
        let afterRSS = stack.residentBytes
        // Once more: the memory of the first round is reused, not kept on top (bounded, not leaked).
        idleHerds = try await Self.openIdle(idleTarget, port: stack.port)
        let secondPeakRSS = stack.residentBytes
        for herd in idleHerds { herd.closeAll() }
        let summary = try await load.stopAndWait()
        let exit = await stack.stop()
        let slowlorisAtApps = apps.uris.filter { $0.contains("slowloris") }.count
        await apps.stop()

        let connections = idleCount + slowCount
        let perConnection = Double(max(0, peakRSS - baselineRSS)) / Double(max(1, connections))
        #expect(idleFailures == 0)
        #expect(idleCount == idleTarget && slowCount == slowWanted)
        #expect(idleOpen == idleCount, "idle keep-alive connections were closed before idle_timeout")
        // Every slowloris connection was closed (waited for above); most see the 408 first (a few
        // may lose it to the RST that closing with unread header bytes causes).
        #expect(got408 > 0)
        #expect(slowlorisAtApps == 0)
        #expect(summary.failed == 0, "\(summary)")
        // Bounded: far above the ~8 KiB per idle connection measured in deploy/bench, far below trouble.
        #expect(perConnection < 128 * 1024, "\(perConnection) bytes per connection")
        #expect(secondPeakRSS <= peakRSS + peakRSS / 10 + 16 * 1_048_576, "second round: RSS \(peakRSS) → \(secondPeakRSS)")
        #expect(exit == 0)
        ReliabilityReport.record(
            test: "slowlorisAndIdleKeepAliveConnectionsDoNotStarveNormalTraffic",
            fault: "\(slowCount) slowloris + \(idleCount) idle keep-alive connections",
            measured: "normal GETs failed; slowloris cut off (header_timeout 3 s); router RSS and descriptors",
            result: "\(summary.failed) failed of \(summary.total) normal GETs; all \(slowCount) slowloris connections closed (\(got408) saw the 408) within \(String(format: "%.1f", cutAfter)) s; \(idleOpen) idle connections still open; router RSS \(Self.mib(baselineRSS)) → peak \(Self.mib(peakRSS)) (\(String(format: "%.1f", perConnection / 1024)) KiB per connection) → \(Self.mib(afterRSS)) after they closed (kept by the allocator), \(Self.mib(secondPeakRSS)) with \(idleCount) idle connections opened again; descriptors \(baselineFDs) → \(peakFDs) → \(afterFDs)",
            figures: [
                "normal_requests": Double(summary.total), "normal_failed": Double(summary.failed), "slowloris": Double(slowCount),
                "slowloris_408": Double(got408), "idle": Double(idleCount), "rss_baseline": Double(baselineRSS), "rss_peak": Double(peakRSS),
                "rss_after": Double(afterRSS), "rss_second_round": Double(secondPeakRSS), "bytes_per_connection": perConnection, "fds_peak": Double(peakFDs),
            ])
    }

    /// Opens `count` idle keep-alive connections in batches of 500, each batch sending one request
    /// per connection and waiting for the responses (so the router's upstream connections stay few).
    static func openIdle(_ count: Int, port: Int) async throws -> [SocketHerd] {
        var herds: [SocketHerd] = []
        var remaining = count
        while remaining > 0 {
            let batch = min(500, remaining)
            let herd = try await BlockingIO.run { SocketHerd.open(count: batch, port: port, timeout: .seconds(10)) }
            herds.append(herd)
            herd.sendToAll(Array("GET /idle HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            try await eventually("idle connections got their responses", timeout: .seconds(60), pollEvery: .milliseconds(100)) {
                herd.refresh()
                return herd.receivedCount(startingWith: "HTTP/1.1 200") >= herd.count
            }
            remaining -= batch
        }
        return herds
    }

    struct Outcome: Sendable {
        var name: String
        var status: Int?
        var closed: Bool
        var mustReject: Bool
        var outerPath: String
    }

    /// Sends one case on a fresh connection: the first response's status (nil when none) and whether
    /// the router closed the connection afterwards.
    static func send(_ hostileCase: HostileCorpus.Case, port: Int) -> Outcome {
        var outcome = Outcome(name: hostileCase.name, status: nil, closed: false, mustReject: hostileCase.mustReject, outerPath: hostileCase.outerPath)
        guard let client = try? RawHTTPClient.connect(port: port, timeout: .seconds(5)) else { return outcome }
        defer { client.close() }
        try? client.send(hostileCase.bytes)
        outcome.status = (try? client.readResponse())?.status
        if (outcome.status ?? 400) >= 400 {
            outcome.closed = client.isClosedByPeer(within: .seconds(5))
        }
        return outcome
    }

    @Test func malformedHeadsAndSmugglingShapesNeverReachAnApp() async throws {
        let apps = try await Apps.start()
        var setup = ServeStack.Setup(primaryPorts: apps.primary.map(\.port), replicaPorts: apps.replica.map(\.port))
        setup.decisions = false
        let stack = try await ServeStack.start(setup, name: "smuggle")
        defer { stack.process.kill() }
        let load = Self.normalTraffic(stack, duration: .seconds(600))
        try await eventually("normal traffic flowing", timeout: .seconds(20)) { load.completed > 200 }
        let baselineRSS = stack.residentBytes

        // The smuggling corpus, each case once on its own connection.
        let corpus = HostileCorpus.smuggling()
        let port = stack.port
        let smuggling = try await BlockingIO.run { corpus.map { Self.send($0, port: port) } }

        // The malformed-head flood: the corpus of bad heads over and over from 4 threads.
        let malformed = HostileCorpus.malformedHeads()
        let perThread = self.scale.malformedRequests / 4
        let flood = try await withThrowingTaskGroup(of: [Outcome].self) { group in
            for thread in 0..<4 {
                group.addTask {
                    try await BlockingIO.run {
                        (0..<perThread).map { Self.send(malformed[($0 + thread) % malformed.count], port: port) }
                    }
                }
            }
            var all: [Outcome] = []
            for try await part in group { all.append(contentsOf: part) }
            return all
        }
        let peakRSS = stack.residentBytes
        let summary = try await load.stopAndWait()
        let exit = await stack.stop()
        let uris = apps.uris
        let completeURIs = Set(apps.all.flatMap(\.requests).filter(\.isComplete).map(\.uri))
        await apps.stop()

        // Nothing hidden in a body ever reached an app as a request of its own.
        // Exact paths: `/smuggled-5` is a prefix of `/smuggled-56`, a legitimately pipelined request
        // (an underscore name is no Transfer-Encoding, so Content-Length frames that body).
        let smuggledThrough = corpus.compactMap(\.smuggledPath).filter { path in uris.contains(path) }
        #expect(smuggledThrough.isEmpty, "smuggled requests reached an app: \(smuggledThrough)")
        // A rejected request never reached an app complete (a head streamed on before its body
        // turned out bad is aborted with RST: the app sees an incomplete request); a case SPEC
        // requires rejected was rejected.
        // (A case that is valid HTTP may reach an app complete: its outer request is a real request.)
        let rejected = smuggling.filter { $0.mustReject && ($0.status ?? 400) >= 400 }
        let rejectedButForwarded = rejected.filter { completeURIs.contains($0.outerPath) }
        let abortedHeads = rejected.filter { outcome in !completeURIs.contains(outcome.outerPath) && uris.contains(outcome.outerPath) }.count
        #expect(rejectedButForwarded.isEmpty, "\(rejectedButForwarded.map(\.name))")
        let acceptedWrongly = smuggling.filter { $0.mustReject && ($0.status ?? 400) < 400 }
        #expect(acceptedWrongly.isEmpty, "must be rejected: \(acceptedWrongly.map { "\($0.name) → \($0.status ?? 0)" })")
        let rejectedOpen = smuggling.filter { ($0.status ?? 400) >= 400 && !$0.closed }
        #expect(rejectedOpen.isEmpty, "rejected but left open: \(rejectedOpen.map(\.name))")
        // The flood: every one answered 4xx/5xx (or closed), none reached an app.
        let floodAccepted = flood.filter { $0.mustReject && ($0.status ?? 400) < 400 }
        let floodAtApps = uris.filter { $0.hasPrefix("/evil-m") }.count
        #expect(floodAccepted.isEmpty, "\(Set(floodAccepted.map(\.name)))")
        #expect(floodAtApps == 0)
        #expect(summary.failed == 0, "\(summary)")
        #expect(exit == 0)

        var floodStatuses: [String: Int] = [:]
        for outcome in flood { floodStatuses[outcome.status.map(String.init) ?? "closed", default: 0] += 1 }
        var corpusStatuses: [String: Int] = [:]
        for outcome in smuggling { corpusStatuses[outcome.status.map(String.init) ?? "closed", default: 0] += 1 }
        let describe = { (counts: [String: Int]) in counts.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ") }
        ReliabilityReport.record(
            test: "malformedHeadsAndSmugglingShapesNeverReachAnApp",
            fault: "\(corpus.count) request-smuggling shapes (CL.TE, TE.CL, TE.TE, CL, chunk) + \(flood.count) malformed heads",
            measured: "what the router answered; requests that reached an app; normal GETs failed; router RSS",
            result: "smuggling: \(describe(corpusStatuses)), \(smuggledThrough.count) smuggled requests and \(rejectedButForwarded.count) rejected requests reached an app complete (\(abortedHeads) heads streamed on before a bad body were aborted incomplete); flood: \(describe(floodStatuses)), \(floodAtApps) reached an app; \(summary.failed) failed of \(summary.total) normal GETs; RSS \(Self.mib(baselineRSS)) → \(Self.mib(peakRSS))",
            figures: [
                "corpus": Double(corpus.count), "smuggled_through": Double(smuggledThrough.count), "flood": Double(flood.count),
                "flood_at_apps": Double(floodAtApps), "normal_failed": Double(summary.failed), "rss_baseline": Double(baselineRSS), "rss_after": Double(peakRSS),
            ])
    }

    @Test func forgedCookiesAndSpoofedForwardingHeadersChangeNothing() async throws {
        let apps = try await Apps.start()
        var setup = ServeStack.Setup(primaryPorts: apps.primary.map(\.port), replicaPorts: apps.replica.map(\.port))
        setup.decisions = false
        let stack = try await ServeStack.start(setup, name: "forged")
        defer { stack.process.kill() }
        let load = Self.normalTraffic(stack, duration: .seconds(600))
        try await eventually("normal traffic flowing", timeout: .seconds(20)) { load.completed > 200 }

        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let otherKey = PinSigner(key: Array("not-the-router-secret".utf8))
        let realKey = PinSigner(key: Array("reliability-secret".utf8))
        let validToken = realKey.sign(PinToken(issuedAtMillis: now))
        let forged: [(name: String, cookie: String, expect: Int, pin: String)] = [
            ("signed with another key", "switchyard_pin=\(otherKey.sign(PinToken(issuedAtMillis: now)))", 200, "invalid"),
            ("expired (signed by the router's key 1 h ago)", "switchyard_pin=\(realKey.sign(PinToken(issuedAtMillis: now - 3_600_000)))", 200, "expired"),
            ("signature flipped", "switchyard_pin=\(String(validToken.dropLast()))\(validToken.last == "A" ? "B" : "A")", 200, "invalid"),
            ("payload only", "switchyard_pin=\(validToken.split(separator: ".").first.map(String.init) ?? "")", 200, "invalid"),
            ("garbage", "switchyard_pin=%%%not-base64%%%.@@@", 200, "invalid"),
            ("empty", "switchyard_pin=", 200, "none"),
            ("30 KiB token", "switchyard_pin=" + String(repeating: "A", count: 30 * 1024) + ".AAAA", 200, "invalid"),
            ("500 cookies", (0..<500).map { "c\($0)=v" }.joined(separator: "; "), 200, "none"),
            ("pin cookie 200 times", (0..<200).map { _ in "switchyard_pin=x.y" }.joined(separator: "; "), 200, "invalid"),
            ("40 KiB cookie (over max_header_bytes)", "switchyard_pin=" + String(repeating: "A", count: 40 * 1024), 431, ""),
        ]
        var problems: [String] = []
        let client = TestHTTPClient(port: stack.port, timeout: .seconds(10), defaultHeaders: [("Host", "t")])
        for (index, attempt) in forged.enumerated() {
            let response = try? await client.get("/forged/\(index)", headers: [("Cookie", attempt.cookie)])
            let status = response?.status ?? 0
            let decision = response?.header("x-switchyard-decision") ?? ""
            if status != attempt.expect { problems.append("\(attempt.name): status \(status)") }
            if attempt.expect == 200 && (decision.contains("reason=pinned") || !decision.contains("pin=\(attempt.pin)")) {
                problems.append("\(attempt.name): decision \(decision)")
            }
            if response?.hasHeader("set-cookie") == true { problems.append("\(attempt.name): a read set a cookie") }
        }
        // The positive control: the router's own valid token pins.
        let control = try await client.get("/forged/control", headers: [("Cookie", "switchyard_pin=\(validToken)")])
        #expect(control.header("x-switchyard-decision")?.contains("reason=pinned") == true)

        // Spoofed forwarding and internal headers from an untrusted peer (trusted_proxies is empty).
        let spoofed = try await client.get("/spoofed", headers: [
            ("X-Forwarded-For", "6.6.6.6, 10.0.0.1"), ("X-Real-IP", "6.6.6.6"), ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "evil.example"), ("X-Switchyard-LSN", "FF/FFFFFFFF"), ("X-Switchyard-Pin", "force"),
            ("X-Switchyard-Decision", "route=primary"), ("Forwarded", "for=6.6.6.6"),
        ])
        #expect(spoofed.status == 200)
        #expect(!spoofed.hasHeader("set-cookie"))
        let summary = try await load.stopAndWait()
        let exit = await stack.stop()
        let seen = apps.all.flatMap(\.requests).first { $0.uri == "/spoofed" }
        let forgedAtApps = apps.all.flatMap(\.requests).filter { $0.uri.hasPrefix("/forged/") }
        await apps.stop()

        let record = try #require(seen)
        #expect(record.headers(named: "x-forwarded-for") == ["127.0.0.1"])
        #expect(record.headers(named: "x-real-ip") == ["127.0.0.1"])
        #expect(record.headers(named: "x-forwarded-proto") == ["http"])
        #expect(record.headers(named: "x-forwarded-host") == ["t"])
        #expect(!record.headers.contains { $0.0.lowercased().hasPrefix("x-switchyard-") })
        // The 431 never reached an app; the others did, unpinned.
        #expect(forgedAtApps.count == forged.count)  // all but the 431, plus the control
        #expect(problems.isEmpty, "\(problems)")
        #expect(summary.failed == 0, "\(summary)")
        #expect(exit == 0)
        ReliabilityReport.record(
            test: "forgedCookiesAndSpoofedForwardingHeadersChangeNothing",
            fault: "\(forged.count) forged/oversized pin cookies; spoofed X-Forwarded-*/X-Real-IP/X-Switchyard-* from an untrusted peer",
            measured: "routing decision and status per cookie; headers the app received; normal GETs failed",
            result: "\(problems.count) problems: no forged cookie pinned (pin=invalid/expired/none), the 40 KiB one got 431 and never reached an app; the app saw X-Forwarded-For/X-Real-IP 127.0.0.1, proto http, no X-Switchyard-*; \(summary.failed) failed of \(summary.total) normal GETs",
            figures: ["cookies": Double(forged.count), "problems": Double(problems.count), "normal_failed": Double(summary.failed)])
    }
}
