import AdminServer
import Foundation
import SwitchyardLogging
import Testing

@Suite("Admin: the dashboard page and its data")
struct DashboardTests {
    @Test func thePageIsSelfContained() async throws {
        let harness = try await AdminHarness.start()
        let response = try await harness.client().get("/")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
        let csp = try #require(response.header("Content-Security-Policy"))
        #expect(csp.contains("default-src 'none'"))
        #expect(csp.contains("connect-src 'self'"))
        #expect(response.header("Referrer-Policy") == "no-referrer")
        let html = response.bodyString
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<script>"))
        #expect(html.contains("dashboard.json"))
        #expect(html.contains("Authorization"))
        // No URL to another host: nothing loaded from a CDN, no fonts, no links out.
        #expect(!html.lowercased().contains("http://"))
        #expect(!html.lowercased().contains("https://"))
        #expect(!html.contains("src=\"//"))
        #expect(!html.contains("href=\"//"))
        #expect(!html.contains("@import"))
        #expect(!html.contains("<script src"))
        #expect(!html.contains("<link rel=\"stylesheet\""))
        await harness.stop()
    }

    @Test func theDataHasStatusLagAndDecisions() async throws {
        let backend = FakeBackend()
        let history = DashboardHistory(thresholds: LagThresholds(maxLagSeconds: 5, readmitBelowSeconds: 2, maxLagBytes: 64 << 20))
        let now = WallClock.nowMillis()
        // An old point (outside the 5-minute chart window) and two recent ones.
        history.record(replica: "replica-a", atMillis: now - 400_000, lagSeconds: 9, lagBytes: 1, inRotation: false)
        history.record(replica: "replica-a", atMillis: now - 2000, lagSeconds: 6.2, lagBytes: 1_048_576, inRotation: false)
        history.record(replica: "replica-a", atMillis: now - 1000, lagSeconds: nil, lagBytes: nil, inRotation: false)
        history.record(replica: "replica-b", atMillis: now - 1000, lagSeconds: 0.012, lagBytes: 0, inRotation: true)
        let recent = RecentItems<DecisionSummary>(capacity: 50)
        for index in 0..<30 {
            recent.record(DashboardTests.decision(index, at: now - 30 + UInt64(index)))
        }
        backend.state.withLock { state in
            state.lag = history.lagHistory()
            state.decisions = recent.elements
        }
        let harness = try await AdminHarness.start(backend: backend)
        let response = try await harness.client().get("/dashboard.json")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        let root = try JSONHelpers.object(response)
        #expect(Set(root.keys) == ["generated_at_ms", "window_s", "status", "lag", "totals", "decisions"])
        #expect(root["window_s"] as? Int == 300)
        let status = try JSONHelpers.object(root["status"], "status")
        #expect(Set(status.keys) == ["version", "uptime_s", "primary", "replicas", "totals"])

        let lag = try JSONHelpers.objects(root["lag"], "lag")
        #expect(lag.map { $0["name"] as? String } == ["replica-a", "replica-b"])
        let first = lag[0]
        #expect(Set(first.keys) == ["name", "max_lag", "readmit_below", "max_lag_bytes", "points"])
        #expect(first["max_lag"] as? Double == 5)
        #expect(first["readmit_below"] as? Double == 2)
        #expect(first["max_lag_bytes"] as? Int == 64 << 20)
        let points = try #require(first["points"] as? [[Any]])
        #expect(points.count == 2, "the point older than the chart window is not sent")
        #expect(points[0].count == 4)
        #expect((points[0][0] as? Int) == Int(now - 2000))
        #expect(points[0][1] as? Double == 6.2)
        #expect(points[0][2] as? Int == 1_048_576)
        #expect(points[0][3] as? Bool == false)
        #expect(JSONHelpers.isNull(points[1][1]))
        #expect(JSONHelpers.isNull(points[1][2]))

        let decisions = try JSONHelpers.objects(root["decisions"], "decisions")
        #expect(decisions.count == 20)
        #expect(decisions.first?["path"] as? String == "/items/29", "newest first")
        #expect(decisions.last?["path"] as? String == "/items/10")
        let keys: Set<String> = [
            "at_ms", "method", "path", "client", "route", "reason", "replica", "server", "pin", "lag_s", "status",
            "attempts", "duration_ms", "pin_set",
        ]
        for decision in decisions {
            #expect(Set(decision.keys) == keys)
        }
        let routerAnswered = try #require(decisions.first { $0["path"] as? String == "/items/29" })
        #expect(JSONHelpers.isNull(routerAnswered["server"]))
        #expect(routerAnswered["duration_ms"] as? Double == 1.84)
        await harness.stop()
    }

    @Test func theDataCarriesTheRequestTotalsSeries() async throws {
        let backend = FakeBackend()
        let history = DashboardHistory()
        let now = WallClock.nowMillis()
        // One sample outside the 5-minute window, then 20 s of 250 ms rounds at 40 requests/s.
        history.recordTotals(atMillis: now - 400_000, requests: 1, byRoute: ["primary": 1], byReason: ["write": 1])
        let rounds = 80
        for round in 0...rounds {
            let requests = 100 + round * 10
            history.recordTotals(
                atMillis: now - UInt64((rounds - round) * 250), requests: requests,
                byRoute: ["primary": 100 + round, "replica": round * 9],
                byReason: ["write": 100 + round, "read": round * 9])
        }
        backend.state.withLock { $0.totals = history.requestTotalsHistory() }
        let harness = try await AdminHarness.start(backend: backend)
        let root = try JSONHelpers.object(try await harness.client().get("/dashboard.json"))
        let totals = try JSONHelpers.object(root["totals"], "totals")
        #expect(Set(totals.keys) == ["routes", "reasons", "points"])
        #expect(totals["routes"] as? [String] == ["primary", "replica"])
        #expect(totals["reasons"] as? [String] == ["write", "read"])
        let points = try #require(totals["points"] as? [[Any]])
        // Thinned to one sample a second (the page averages over ~5 s), the newest kept.
        #expect(points.count == 21)
        let times = points.compactMap { $0[0] as? Int }
        #expect(times.count == points.count)
        #expect(times.first == Int(now - UInt64(rounds * 250)), "the sample older than the window is not sent")
        #expect(times.last == Int(now))
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 == 1000 })
        for point in points {
            #expect(point.count == 4)
            #expect(point[1] is Int)
            #expect((point[2] as? [Int])?.count == 2)
            #expect((point[3] as? [Int])?.count == 2)
        }
        let newest = try #require(points.last)
        #expect(newest[1] as? Int == 100 + rounds * 10)
        #expect(newest[2] as? [Int] == [100 + rounds, rounds * 9])
        #expect(newest[3] as? [Int] == [100 + rounds, rounds * 9])
        // 40 requests/s between any two samples.
        let first = points[0]
        let seconds = Double(times.last! - times.first!) / 1000
        #expect(Double((newest[1] as! Int) - (first[1] as! Int)) / seconds == 40)
        await harness.stop()
    }

    @Test func theTotalsSeriesIsEmptyBeforeTheFirstRound() async throws {
        let harness = try await AdminHarness.start()
        let root = try JSONHelpers.object(try await harness.client().get("/dashboard.json"))
        let totals = try JSONHelpers.object(root["totals"], "totals")
        #expect(totals["routes"] as? [String] == [])
        #expect(totals["reasons"] as? [String] == [])
        #expect((totals["points"] as? [Any])?.isEmpty == true)
        await harness.stop()
    }

    @Test func thePageDrawsRatesFromTheServerSeries() async throws {
        let harness = try await AdminHarness.start()
        let html = try await harness.client().get("/").bodyString
        // Rates come from the document's totals series, not from deltas between the page's own refreshes.
        #expect(html.contains("doc.totals"))
        #expect(!html.contains("since this page opened"))
        await harness.stop()
    }

    static func decision(_ index: Int, at millis: UInt64) -> DecisionSummary {
        DecisionSummary(
            atMillis: millis, method: "GET", path: "/items/\(index)", client: "203.0.113.9", route: "replica", reason: "read",
            replica: "replica-a", server: index % 2 == 1 ? nil : "127.0.0.1:8011", pin: "none", lagSeconds: 0.012,
            status: 200, attempts: 1, durationSeconds: 0.00184, pinSet: false)
    }
}
