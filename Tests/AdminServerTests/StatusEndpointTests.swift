import AdminServer
import Foundation
import SwitchyardCore
import Testing

@Suite("Admin: GET /status has exactly the SPEC §7 shape")
struct StatusEndpointTests {
    @Test func everySpecKeyIsPresentWithExplicitNulls() async throws {
        let harness = try await AdminHarness.start()
        let response = try await harness.client().get("/status")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.header("Cache-Control") == "no-store")

        let root = try JSONHelpers.object(response)
        #expect(Set(root.keys) == ["version", "uptime_s", "primary", "replicas", "totals"])
        #expect(root["version"] as? String == "1.0.0")
        #expect((root["uptime_s"] as? Double).map { abs($0 - 812.4) < 1e-9 } == true)

        let primary = try JSONHelpers.object(root["primary"], "primary")
        #expect(Set(primary.keys) == ["reachable", "in_recovery", "current_lsn", "servers"])
        #expect(primary["reachable"] as? Bool == true)
        #expect(primary["in_recovery"] as? Bool == false)
        #expect(primary["current_lsn"] as? String == "0/3000148")
        let primaryServers = try JSONHelpers.objects(primary["servers"], "primary.servers")
        #expect(primaryServers.count == 1)
        for server in primaryServers {
            #expect(Set(server.keys) == ["address", "up", "active", "failures"])
        }
        #expect(primaryServers.first?["address"] as? String == "127.0.0.1:8001")
        #expect(primaryServers.first?["active"] as? Int == 3)

        let replicas = try JSONHelpers.objects(root["replicas"], "replicas")
        #expect(replicas.count == 2)
        for replica in replicas {
            #expect(Set(replica.keys) == ["name", "in_rotation", "cause", "lag_s", "lag_bytes", "replay_lsn", "servers"])
            for server in try JSONHelpers.objects(replica["servers"], "replica.servers") {
                #expect(Set(server.keys) == ["address", "up", "active", "failures"])
            }
        }
        let outOfRotation = replicas[0]
        #expect(outOfRotation["name"] as? String == "replica-a")
        #expect(outOfRotation["in_rotation"] as? Bool == false)
        #expect(outOfRotation["cause"] as? String == "lag")
        #expect(outOfRotation["lag_bytes"] as? Int == 1_048_576)
        #expect(outOfRotation["replay_lsn"] as? String == "0/2F00000")
        let inRotation = replicas[1]
        #expect(inRotation["in_rotation"] as? Bool == true)
        #expect(JSONHelpers.isNull(inRotation["cause"]), "cause must be an explicit null, got \(String(describing: inRotation["cause"]))")
        let downServer = try JSONHelpers.objects(inRotation["servers"], "servers")[1]
        #expect(downServer["up"] as? Bool == false)
        #expect(downServer["failures"] as? Int == 2)

        let totals = try JSONHelpers.object(root["totals"], "totals")
        #expect(Set(totals.keys) == ["requests", "by_route", "by_reason"])
        #expect(totals["requests"] as? Int == 18211)
        let byRoute = try JSONHelpers.object(totals["by_route"], "by_route")
        #expect(byRoute as? [String: Int] == ["primary": 2011, "replica": 16200])
        let byReason = try JSONHelpers.object(totals["by_reason"], "by_reason")
        #expect(byReason as? [String: Int] == ["read": 15990, "write": 1900, "pinned": 101, "pin-caught-up": 210, "no-replica": 10])

        await harness.stop()
    }

    @Test func unknownValuesAreNullNotOmitted() throws {
        let document = StatusDocument(
            version: "0.1.0", uptimeSeconds: .infinity,
            primary: .init(reachable: false, inRecovery: nil, currentLSN: nil as String?, servers: []),
            replicas: [
                .init(name: "r", inRotation: false, cause: "unreachable", lagSeconds: .nan, lagBytes: nil, replayLSN: nil, servers: []),
                // A cause left set on a replica in rotation is still written as null.
                .init(name: "s", inRotation: true, cause: "lag", lagSeconds: nil, lagBytes: nil, replayLSN: nil, servers: []),
            ],
            totals: .zero)
        let encoder = JSONEncoder()
        let root = try JSONHelpers.object(Array(try encoder.encode(document)))
        #expect(JSONHelpers.isNull(root["uptime_s"]))
        let primary = try JSONHelpers.object(root["primary"], "primary")
        #expect(JSONHelpers.isNull(primary["in_recovery"]))
        #expect(JSONHelpers.isNull(primary["current_lsn"]))
        let replicas = try JSONHelpers.objects(root["replicas"], "replicas")
        #expect(replicas[0]["cause"] as? String == "unreachable")
        for key in ["lag_s", "lag_bytes", "replay_lsn"] {
            #expect(replicas[0].keys.contains(key))
            #expect(JSONHelpers.isNull(replicas[0][key]), "\(key)")
        }
        #expect(JSONHelpers.isNull(replicas[1]["cause"]))
        // Empty totals still name every route and fixed reason.
        let totals = try JSONHelpers.object(root["totals"], "totals")
        #expect(totals["by_route"] as? [String: Int] == ["primary": 0, "replica": 0])
        #expect(totals["by_reason"] as? [String: Int] == ["read": 0, "write": 0, "pinned": 0, "pin-caught-up": 0, "no-replica": 0])
    }

    @Test func ruleReasonsAreCountedBesideTheFixedOnes() throws {
        var document = FakeBackend.sampleDocument
        document.totals.byReason = ["read": 3, "rule:zeta": 2, "rule:admin-on-primary": 5]
        let root = try JSONHelpers.object(Array(try JSONEncoder().encode(document)))
        let totals = try JSONHelpers.object(root["totals"], "totals")
        #expect(
            totals["by_reason"] as? [String: Int] == [
                "read": 3, "write": 0, "pinned": 0, "pin-caught-up": 0, "no-replica": 0, "rule:zeta": 2,
                "rule:admin-on-primary": 5,
            ])
    }

    @Test func coreTypeConveniencesMapToSpecText() throws {
        let replica = StatusDocument.Replica(
            name: "r", inRotation: false, cause: RotationCause.receiverDown, lagSeconds: 1, lagBytes: 2,
            replayLSN: LSN(0x1_0000_0010), servers: [])
        #expect(replica.cause == "receiver-down")
        #expect(replica.replayLSN == "1/10")
        let back = StatusDocument.Replica(
            name: "r", inRotation: true, cause: RotationCause.drained, lagSeconds: nil, lagBytes: nil, replayLSN: nil as LSN?,
            servers: [])
        #expect(back.cause == nil)
        let primary = StatusDocument.Primary(reachable: true, inRecovery: false, currentLSN: LSN(0x3000148), servers: [])
        #expect(primary.currentLSN == "0/3000148")
    }

    @Test func otherMethodsAre405AndHeadHasNoBody() async throws {
        let harness = try await AdminHarness.start()
        let client = harness.client()
        let post = try await client.post("/status")
        #expect(post.status == 405)
        #expect(post.header("Allow") == "GET, HEAD")
        let head = try await client.request(method: "HEAD", path: "/status")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect((head.header("Content-Length").flatMap { Int($0) } ?? 0) > 100)
        // The connection survives both.
        let get = try await client.get("/status")
        #expect(get.status == 200)
        #expect(client.connectionsOpened == 1)
        await harness.stop()
    }
}
