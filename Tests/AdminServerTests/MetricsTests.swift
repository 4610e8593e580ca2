import AdminServer
import Testing

@Suite("Admin: /metrics is Prometheus text with the SPEC §7 series")
struct MetricsTests {
    @Test func theNamedSeriesAppearAndMoveAfterRecording() throws {
        let metrics = SwitchyardMetrics()
        metrics.requestFinished(route: "replica", reason: "read", code: 200, durationSeconds: 0.0018)
        metrics.requestFinished(route: "replica", reason: "read", code: 200, durationSeconds: 0.3)
        metrics.requestFinished(route: "primary", reason: "write", code: 201, durationSeconds: 0.02)
        metrics.requestFinished(route: "primary", reason: "rule:admin-on-primary", code: 502, durationSeconds: 12)
        metrics.setReplica(name: "replica-a", lagSeconds: 6.2, lagBytes: 1_048_576, inRotation: false)
        metrics.setReplica(name: "replica-b", lagSeconds: 0.012, lagBytes: 0, inRotation: true)
        metrics.setServerUp(pool: "primary", server: "127.0.0.1:8001", up: true)
        metrics.setServerUp(pool: "replica-a", server: "127.0.0.1:8011", up: false)
        metrics.pinIssued()
        metrics.pinIssued()
        metrics.upstreamRetried()
        metrics.rotationChanged(replica: "replica-a", cause: "lag")
        metrics.rotationChanged(replica: "replica-a", cause: nil)

        let text = try PrometheusText(metrics.render())
        #expect(text.value("switchyard_requests_total", ["route": "replica", "reason": "read", "code": "200"]) == 2)
        #expect(text.value("switchyard_requests_total", ["route": "primary", "reason": "write", "code": "201"]) == 1)
        #expect(text.value("switchyard_requests_total", ["route": "primary", "reason": "rule:admin-on-primary", "code": "502"]) == 1)
        #expect(text.types["switchyard_requests_total"] == "counter")

        #expect(text.types["switchyard_request_duration_seconds"] == "histogram")
        #expect(text.value("switchyard_request_duration_seconds_count", ["route": "replica"]) == 2)
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "replica", "le": "0.0025"]) == 1)
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "replica", "le": "0.5"]) == 2)
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "replica", "le": "0.0005"]) == 0)
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "primary", "le": "10.0"]) == 1)
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "primary", "le": "+Inf"]) == 2)
        let sum = text.value("switchyard_request_duration_seconds_sum", ["route": "replica"]) ?? 0
        #expect(abs(sum - 0.3018) < 1e-9)

        #expect(text.types["switchyard_replica_lag_seconds"] == "gauge")
        #expect(text.value("switchyard_replica_lag_seconds", ["replica": "replica-a"]) == 6.2)
        #expect(text.value("switchyard_replica_lag_bytes", ["replica": "replica-a"]) == 1_048_576)
        #expect(text.value("switchyard_replica_in_rotation", ["replica": "replica-a"]) == 0)
        #expect(text.value("switchyard_replica_in_rotation", ["replica": "replica-b"]) == 1)
        #expect(text.value("switchyard_server_up", ["pool": "primary", "server": "127.0.0.1:8001"]) == 1)
        #expect(text.value("switchyard_server_up", ["pool": "replica-a", "server": "127.0.0.1:8011"]) == 0)
        #expect(text.value("switchyard_pins_issued_total") == 2)
        #expect(text.value("switchyard_upstream_retries_total") == 1)
        #expect(text.value("switchyard_rotation_changes_total", ["replica": "replica-a", "cause": "lag"]) == 1)
        #expect(text.value("switchyard_rotation_changes_total", ["replica": "replica-a", "cause": "readmitted"]) == 1)
        for name in [
            "switchyard_requests_total", "switchyard_request_duration_seconds", "switchyard_replica_lag_seconds",
            "switchyard_replica_lag_bytes", "switchyard_replica_in_rotation", "switchyard_server_up",
            "switchyard_pins_issued_total", "switchyard_upstream_retries_total", "switchyard_rotation_changes_total",
        ] {
            #expect(text.helps[name]?.isEmpty == false, "\(name) has no HELP")
        }

        // Gauges follow the latest value; counters keep counting.
        metrics.setReplica(name: "replica-a", lagSeconds: 0.5, lagBytes: 10, inRotation: true)
        metrics.setServerUp(pool: "replica-a", server: "127.0.0.1:8011", up: true)
        metrics.pinIssued()
        metrics.requestFinished(route: "replica", reason: "read", code: 200, durationSeconds: 0.001)
        let after = try PrometheusText(metrics.render())
        #expect(after.value("switchyard_replica_lag_seconds", ["replica": "replica-a"]) == 0.5)
        #expect(after.value("switchyard_replica_in_rotation", ["replica": "replica-a"]) == 1)
        #expect(after.value("switchyard_server_up", ["pool": "replica-a", "server": "127.0.0.1:8011"]) == 1)
        #expect(after.value("switchyard_pins_issued_total") == 3)
        #expect(after.value("switchyard_requests_total", ["route": "replica", "reason": "read", "code": "200"]) == 3)
    }

    @Test func requestTotalsForStatus() {
        let metrics = SwitchyardMetrics()
        #expect(metrics.requestTotals() == StatusDocument.Totals(requests: 0, byRoute: [:], byReason: [:]))
        metrics.requestFinished(route: "replica", reason: "read", code: 200, durationSeconds: 0.001)
        metrics.requestFinished(route: "replica", reason: "read", code: 500, durationSeconds: 0.001)
        metrics.requestFinished(route: "replica", reason: "pin-caught-up", code: 200, durationSeconds: 0.001)
        metrics.requestFinished(route: "primary", reason: "write", code: 201, durationSeconds: 0.001)
        metrics.requestFinished(route: "primary", reason: "rule:admin", code: 200, durationSeconds: 0.001)
        let totals = metrics.requestTotals()
        #expect(totals.requests == 5)
        #expect(totals.byRoute == ["replica": 3, "primary": 2])
        #expect(totals.byReason == ["read": 2, "pin-caught-up": 1, "write": 1, "rule:admin": 1])
    }

    @Test func theCountersExistBeforeAnyEvent() throws {
        let text = try PrometheusText(SwitchyardMetrics().render())
        #expect(text.value("switchyard_pins_issued_total") == 0)
        #expect(text.value("switchyard_upstream_retries_total") == 0)
    }

    @Test func unknownLagIsNaNNotZero() throws {
        let metrics = SwitchyardMetrics()
        metrics.setReplica(name: "replica-a", lagSeconds: nil, lagBytes: nil, inRotation: false)
        let text = try PrometheusText(metrics.render())
        #expect(text.value("switchyard_replica_lag_seconds", ["replica": "replica-a"])?.isNaN == true)
        #expect(text.value("switchyard_replica_lag_bytes", ["replica": "replica-a"])?.isNaN == true)
    }

    @Test func forgottenReplicasAndServersDisappear() throws {
        let metrics = SwitchyardMetrics()
        metrics.setReplica(name: "old", lagSeconds: 1, lagBytes: 1, inRotation: true)
        metrics.setServerUp(pool: "old", server: "127.0.0.1:9", up: true)
        metrics.setServerUp(pool: "primary", server: "127.0.0.1:8", up: true)
        metrics.forgetReplica(name: "old")
        metrics.forgetServer(pool: "primary", server: "127.0.0.1:8")
        let text = try PrometheusText(metrics.render())
        #expect(!text.samples.contains { $0.labels["replica"] == "old" || $0.labels["pool"] == "old" })
        #expect(!text.samples.contains { $0.labels["server"] == "127.0.0.1:8" })
        // And come back when recorded again.
        metrics.setReplica(name: "old", lagSeconds: 2, lagBytes: 2, inRotation: false)
        #expect(try PrometheusText(metrics.render()).value("switchyard_replica_lag_seconds", ["replica": "old"]) == 2)
    }

    @Test func labelValuesAreEscaped() throws {
        let metrics = SwitchyardMetrics()
        metrics.requestFinished(route: "primary", reason: "rule:we\"ird\\name", code: 200, durationSeconds: 0.001)
        let text = try PrometheusText(metrics.render())
        #expect(text.value("switchyard_requests_total", ["reason": "rule:we\"ird\\name"]) == 1)
    }

    @Test func recordingFromManyThreadsLosesNothing() async throws {
        let metrics = SwitchyardMetrics()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in 0..<500 {
                        metrics.requestFinished(
                            route: worker % 2 == 0 ? "primary" : "replica", reason: index % 2 == 0 ? "read" : "write",
                            code: 200, durationSeconds: 0.001)
                        metrics.pinIssued()
                    }
                }
            }
        }
        let text = try PrometheusText(metrics.render())
        let total = text.samples.filter { $0.name == "switchyard_requests_total" }.reduce(0) { $0 + $1.value }
        #expect(total == 4000)
        #expect(text.value("switchyard_pins_issued_total") == 4000)
        #expect(text.value("switchyard_request_duration_seconds_count", ["route": "primary"]) == 2000)
        #expect(metrics.requestTotals().requests == 4000)
    }

    /// The request path records through one recorder per event loop; the
    /// exposition adds the loops up, one sample per label set.
    @Test("each loop's recorder counts apart; /metrics and /status add them up per label set")
    func recordersAreAddedUp() throws {
        let metrics = SwitchyardMetrics()
        let first = metrics.makeRequestRecorder()
        let second = metrics.makeRequestRecorder()
        first.record(route: "replica", reason: "read", code: 200, durationSeconds: 0.0004)
        second.record(route: "replica", reason: "read", code: 200, durationSeconds: 0.002)
        second.record(route: "primary", reason: "write", code: 201, durationSeconds: 0.02)
        first.record(route: "replica", reason: "read", code: 200, durationSeconds: 20)
        second.record(route: "replica", reason: "pinned", code: 200, durationSeconds: -1)
        metrics.requestFinished(route: "replica", reason: "read", code: 200, durationSeconds: 0.0005)

        let text = try PrometheusText(metrics.render())
        #expect(text.value("switchyard_requests_total", ["route": "replica", "reason": "read", "code": "200"]) == 4)
        #expect(text.value("switchyard_requests_total", ["route": "replica", "reason": "pinned", "code": "200"]) == 1)
        #expect(text.value("switchyard_requests_total", ["route": "primary", "reason": "write", "code": "201"]) == 1)
        // Cumulative buckets over both loops; a bound holds a duration equal to it.
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "replica", "le": "0.0005"]) == 3)
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "replica", "le": "0.0025"]) == 4)
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "replica", "le": "10.0"]) == 4)
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "replica", "le": "+Inf"]) == 5)
        #expect(text.value("switchyard_request_duration_seconds_count", ["route": "replica"]) == 5)
        let sum = text.value("switchyard_request_duration_seconds_sum", ["route": "replica"]) ?? 0
        #expect(abs(sum - 20.0029) < 1e-9, "a negative duration counts as 0")
        #expect(text.value("switchyard_request_duration_seconds_count", ["route": "primary"]) == 1)
        #expect(text.samples.filter { $0.name == "switchyard_requests_total" }.count == 3)

        let totals = metrics.requestTotals()
        #expect(totals.requests == 6)
        #expect(totals.byRoute == ["replica": 5, "primary": 1])
        #expect(totals.byReason == ["read": 4, "pinned": 1, "write": 1])
    }

    /// A recorder compares a request's labels with the few label sets it used
    /// last before it looks them up: more label sets than that, taken in
    /// turns and out of turn, still land each in its own series.
    @Test("a recorder cycling through more label sets than it keeps at hand counts each exactly")
    func recorderWithManyLabelSets() throws {
        let metrics = SwitchyardMetrics()
        let recorder = metrics.makeRequestRecorder()
        let labels = [
            ("replica", "read", 200), ("primary", "pinned", 200), ("primary", "write", 201), ("replica", "read", 404),
            ("primary", "rule:admin", 200), ("primary", "no-replica", 200), ("primary", "write", 500),
        ]
        var expected = Array(repeating: 0, count: labels.count)
        // In turns (each set evicted before it comes back), then runs of one
        // set, then a scrambled order.
        var order = Array(repeating: Array(labels.indices), count: 30).flatMap { $0 }
        order += labels.indices.flatMap { Array(repeating: $0, count: 5 + $0) }
        order += (0..<200).map { ($0 * 5 + $0 / 7) % labels.count }
        for index in order {
            let (route, reason, code) = labels[index]
            recorder.record(route: route, reason: reason, code: code, durationSeconds: 0.001)
            expected[index] += 1
        }
        let text = try PrometheusText(metrics.render())
        for (index, (route, reason, code)) in labels.enumerated() {
            #expect(
                text.value("switchyard_requests_total", ["route": route, "reason": reason, "code": "\(code)"]) == Double(expected[index]),
                "\(route) \(reason) \(code)")
        }
        #expect(text.samples.filter { $0.name == "switchyard_requests_total" }.count == labels.count)
        #expect(metrics.requestTotals().requests == order.count)
    }

    @Test("a recorder per thread, read while written: nothing is lost")
    func recordersOnManyThreads() async throws {
        let metrics = SwitchyardMetrics()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    let recorder = metrics.makeRequestRecorder()
                    for index in 0..<1000 {
                        recorder.record(route: "replica", reason: index % 3 == 0 ? "read" : "pinned", code: 200 + worker, durationSeconds: 0.001)
                    }
                }
            }
            group.addTask {
                for _ in 0..<20 { _ = try? PrometheusText(metrics.render()) }
            }
        }
        let text = try PrometheusText(metrics.render())
        #expect(text.samples.filter { $0.name == "switchyard_requests_total" }.reduce(0) { $0 + $1.value } == 4000)
        #expect(text.value("switchyard_request_duration_seconds_bucket", ["route": "replica", "le": "0.001"]) == 4000)
        #expect(metrics.requestTotals().requests == 4000)
    }

    @Test func theEndpointServesTheRegistry() async throws {
        let harness = try await AdminHarness.start()
        harness.metrics.requestFinished(route: "replica", reason: "read", code: 200, durationSeconds: 0.004)
        harness.metrics.setReplica(name: "replica-a", lagSeconds: 6.2, lagBytes: 1_048_576, inRotation: false)
        harness.metrics.setServerUp(pool: "primary", server: "127.0.0.1:8001", up: true)
        let client = harness.client()
        let response = try await client.get("/metrics")
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = try PrometheusText(response.bodyString)
        #expect(text.value("switchyard_requests_total", ["route": "replica", "reason": "read", "code": "200"]) == 1)
        #expect(text.value("switchyard_replica_lag_seconds", ["replica": "replica-a"]) == 6.2)
        #expect(text.hasSeries("switchyard_request_duration_seconds_bucket"))
        #expect(text.hasSeries("switchyard_server_up"))

        harness.metrics.requestFinished(route: "replica", reason: "read", code: 200, durationSeconds: 0.004)
        let again = try PrometheusText(try await client.get("/metrics").bodyString)
        #expect(again.value("switchyard_requests_total", ["route": "replica", "reason": "read", "code": "200"]) == 2)
        await harness.stop()
    }
}
