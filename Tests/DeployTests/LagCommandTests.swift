import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `switchyard lag` and `switchyard explain` (SPEC §1) against a real primary and replica.
@Suite("switchyard lag and explain on real PostgreSQL", .serialized, .heavyLoad)
struct LagCommandTests {
    @Test func lagPrintsEveryDatabaseAndExplainTheDecision() async throws {
        try await withPostgresCluster(replicas: 1) { cluster in
            let path = "/tmp/sy-lag-\(getpid()).yaml"
            try ServeProcessTests.write(
                """
                listen: 127.0.0.1:1
                primary:
                  database: "\(cluster.primary.conninfo)"
                  servers: [127.0.0.1:2]
                replicas:
                  - name: replica-a
                    database: "\(cluster.replicas[0].conninfo)"
                    servers: [127.0.0.1:3]
                routing:
                  rules: [{ name: admin-on-primary, match: { path_prefix: /admin }, route: primary }]
                lag:
                  query_timeout: 10s   # this test is not about timeouts: a loaded machine may take over 1 s to connect
                """, to: path)
            let json = try await ShellCommand.run([ServeProcessTests.binary, "lag", "--config", path, "--json"], timeout: .seconds(30))
            #expect(json.status == 0, "\(json.output)")
            #expect(json.output.hasPrefix("[{\"name\":\"primary\",\"role\":\"primary\",\"reachable\":true,\"in_recovery\":false,\"replay_lsn\":null,\"current_lsn\":\""))
            #expect(json.output.contains("{\"name\":\"replica-a\",\"role\":\"replica\",\"reachable\":true,\"in_recovery\":true,\"replay_lsn\":\""))
            #expect(json.output.contains("\"in_rotation\":true,\"cause\":null"))

            let table = try await ShellCommand.run([ServeProcessTests.binary, "lag", "--config", path], timeout: .seconds(30))
            #expect(table.status == 0)
            #expect(table.output.hasPrefix("NAME"))
            #expect(table.output.contains("replica-a  replica"))
            #expect(table.output.contains("in rotation"))

            let read = try await ShellCommand.run([ServeProcessTests.binary, "explain", "--config", path, "GET", "/items/7"], timeout: .seconds(30))
            #expect(read.status == 0)
            #expect(read.output.hasPrefix("route=replica; reason=read; pin=none"))
            let rule = try await ShellCommand.run([ServeProcessTests.binary, "explain", "--config", path, "GET", "/admin/x"], timeout: .seconds(30))
            #expect(rule.output.hasPrefix("route=primary; reason=rule:admin-on-primary; pin=none"))
            let forged = try await ShellCommand.run(
                [ServeProcessTests.binary, "explain", "--config", path, "GET", "/items/7", "--cookie", "switchyard_pin=forged.value"],
                environment: ["SWITCHYARD_PIN_SECRET": "s"], timeout: .seconds(30))
            #expect(forged.output.hasPrefix("route=replica; reason=read; pin=invalid"))

            // A stopped replica: lag exits 1 and says why.
            try await cluster.stop(cluster.replicas[0])
            let down = try await ShellCommand.run([ServeProcessTests.binary, "lag", "--config", path, "--json"], timeout: .seconds(30))
            #expect(down.status == 1)
            #expect(down.output.contains("\"name\":\"replica-a\",\"role\":\"replica\",\"reachable\":false"))
            #expect(down.output.contains("\"cause\":\"unreachable\""))
        }
    }
}
