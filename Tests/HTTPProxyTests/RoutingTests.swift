import HTTPProxy
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Proxy: read/write split, rules and decision logs")
struct RoutingTests {
    @Test func readsGoToReplicasWritesToPrimary() async throws {
        let harness = try await ProxyHarness.start()
        let client = harness.client()
        for _ in 0..<10 {
            let response = try await client.get("/items/7?secret=1")
            #expect(response.status == 200)
            let server = response.header("x-app-server") ?? ""
            #expect(server == "a1" || server == "a2")
        }
        let write = try await client.post("/items", body: "{\"name\":\"x\"}")
        #expect(write.status == 200)
        #expect(["p1", "p2"].contains(write.header("x-app-server") ?? ""))
        // Reads spread over both replica servers.
        #expect(harness.replicaA[0].requestCount == 5)
        #expect(harness.replicaA[1].requestCount == 5)
        #expect(harness.primaryRequests == 1)

        try await eventually("11 decision lines", timeout: .seconds(5)) { harness.decisions.lines.count == 11 }
        let lines = harness.decisionLines
        let read = lines[0]
        #expect(read["msg"] == "route")
        #expect(read["method"] == "GET")
        #expect(read["path"] == "/items/7")
        #expect(read["client"] == "127.0.0.1")
        #expect(read["route"] == "replica")
        #expect(read["reason"] == "read")
        #expect(read["replica"] == "replica-a")
        #expect(read["pin"] == "none")
        #expect(read["lag_s"] != nil)
        #expect(read["status"] == "200")
        #expect(read["attempts"] == "1")
        #expect(read["duration_ms"] != nil)
        #expect(read["pin_set"] == "false")
        #expect(read["ts"]?.hasSuffix("Z") == true)
        let writeLine = lines[10]
        #expect(writeLine["route"] == "primary")
        #expect(writeLine["reason"] == "write")
        #expect(writeLine["replica"] == nil)
        #expect(writeLine["lag_s"] == nil)
        #expect(writeLine["pin_set"] == "true")
        await harness.stop()
    }

    @Test func rulesOverrideTheMethodSplit() async throws {
        let reports = try PathRegex("^/reports/[0-9]+$")
        let harness = try await ProxyHarness.start { configuration in
            configuration.routing.rules = [
                RoutingRule(name: "admin-on-primary", match: RuleMatch(pathPrefix: "/admin"), route: .primary),
                RoutingRule(name: "search-is-a-read", match: RuleMatch(pathPrefix: "/search", methods: ["POST"]), route: .replica),
                RoutingRule(name: "by-header", match: RuleMatch(headers: [HeaderCondition(name: "X-Consistency", value: "strong")]), route: .primary),
                RoutingRule(name: "reports", match: RuleMatch(pathRegex: reports), route: .primary),
            ]
        }
        // A fresh client per request: a rule to the primary pins like a write (SPEC §3).
        let admin = try await harness.client().get("/admin/users")
        #expect(["p1", "p2"].contains(admin.header("x-app-server") ?? ""))
        #expect(admin.header("set-cookie") != nil)
        let search = try await harness.client().post("/search", body: "q=1")
        #expect(["a1", "a2"].contains(search.header("x-app-server") ?? ""))
        #expect(search.header("set-cookie") == nil)
        let strong = try await harness.client().get("/items", headers: [("X-Consistency", "strong")])
        #expect(["p1", "p2"].contains(strong.header("x-app-server") ?? ""))
        let report = try await harness.client().get("/reports/12")
        #expect(["p1", "p2"].contains(report.header("x-app-server") ?? ""))
        let notReport = try await harness.client().get("/reports/x")
        #expect(["a1", "a2"].contains(notReport.header("x-app-server") ?? ""))
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == 5 }
        let reasons = harness.decisionLines.map { $0["reason"] ?? "" }
        #expect(reasons == ["rule:admin-on-primary", "rule:search-is-a-read", "rule:by-header", "rule:reports", "read"])
        await harness.stop()
    }

    @Test func noReplicaFallsBackToPrimaryOrFails() async throws {
        let harness = try await ProxyHarness.start()
        harness.runtime.publish(board: ReplicaStatusBoard(entries: ["replica-a": .init(inRotation: false, cause: "drained")]))
        let client = harness.client()
        let response = try await client.get("/items")
        #expect(["p1", "p2"].contains(response.header("x-app-server") ?? ""))
        try await eventually(timeout: .seconds(5)) { harness.decisions.lines.count == 1 }
        #expect(harness.decisionLines[0]["reason"] == "no-replica")
        #expect(harness.decisionLines[0]["route"] == "primary")

        var failing = harness.runtime.snapshot.configuration
        failing.routing.onNoReplica = .fail
        harness.runtime.apply(configuration: failing)
        let refused = try await client.get("/items")
        #expect(refused.status == 503)
        #expect(refused.bodyString.contains("no replica"))
        #expect(harness.primaryRequests == 1)
        await harness.stop()
    }

    @Test func decisionHeaderWhenEnabled() async throws {
        let harness = try await ProxyHarness.start { $0.log.decisionHeader = true }
        let response = try await harness.client().get("/x")
        let header = response.header("x-switchyard-decision") ?? ""
        #expect(header.hasPrefix("route=replica; reason=read; replica=replica-a; server=127.0.0.1:"))
        #expect(header.hasSuffix("; pin=none"))
        await harness.stop()
    }

    @Test func leastConnectionsHonoursWeights() async throws {
        let harness = try await ProxyHarness.start { configuration in
            configuration.routing.balance = .leastConnections
            configuration.replicas[0].servers[0].weight = 3
        }
        let client = harness.client()
        for _ in 0..<40 {
            _ = try await client.get("/w")
        }
        // Sequential requests: every server idle, ties broken by weight (3:1).
        #expect(harness.replicaA[0].requestCount == 30)
        #expect(harness.replicaA[1].requestCount == 10)
        await harness.stop()
    }
}
