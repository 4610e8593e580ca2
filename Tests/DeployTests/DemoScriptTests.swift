import SwitchyardTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs `deploy/demo.sh` end to end (with this build's binaries, in a temporary
/// state directory and its own ports), checks from its output and decision
/// log that every step of the scenario happened, then `stop`s it and checks
/// that nothing it started is left.
@Suite("deploy/demo.sh end to end", .serialized, .heavyLoad)
struct DemoScriptTests {
    static let root: String = {
        // Tests/DeployTests/DemoScriptTests.swift → the package root.
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    static func run(_ arguments: [String], environment: [String: String], timeout: Duration) async throws -> (status: Int32, output: String) {
        try await ShellCommand.run(arguments, environment: environment, timeout: timeout)
    }

    @Test func theDemoNarratesEveryStepAndStopLeavesNothingRunning() async throws {
        let state = "/tmp/sy-demo-test-\(getpid())"
        let base = 24000 + Int(getpid() % 40) * 100  // below the ephemeral range (32768+)
        let environment = [
            "SWITCHYARD_DEMO_DIR": state, "SWITCHYARD_DEMO_PORT_BASE": String(base),
            "SWITCHYARD_BIN_DIR": Self.root + "/.build/debug",
        ]
        let demo = try await Self.run([Self.root + "/deploy/demo.sh"], environment: environment, timeout: .seconds(240))
        let pids = (try? ShellCommand.readPIDs(in: state + "/pids")) ?? []
        let stop = try await Self.run([Self.root + "/deploy/demo.sh", "stop"], environment: environment, timeout: .seconds(60))
        #expect(demo.status == 0, "demo.sh failed:\n\(demo.output)")
        #expect(stop.status == 0, "demo.sh stop failed:\n\(stop.output)")

        let output = demo.output
        let expectations: [(String, String)] = [
            ("reads go to the replica", "\"route\":\"replica\",\"reason\":\"read\""),
            ("the write is pinned", "\"reason\":\"write\""),
            ("the write set the pin", "\"pin_set\":true"),
            ("the pinned read went to the primary", "\"reason\":\"pinned\""),
            ("the unpinned read saw the stale replica", "-> 404 from app-r"),
            ("the pinned read moved back", "\"reason\":\"pin-caught-up\""),
            ("the lagging replica left rotation", "\"msg\":\"replica out of rotation\",\"cause\":\"lag\""),
            ("reads fell back to the primary", "\"reason\":\"no-replica\""),
            ("the replica came back", "\"msg\":\"replica back in rotation\""),
            ("how to stop", "deploy/demo.sh stop"),
        ]
        for (what, needle) in expectations {
            #expect(output.contains(needle), "\(what): '\(needle)' not in the demo's output")
        }
        #expect(pids.count == 5, "expected 4 app servers and switchyard, found pids \(pids)")
        for pid in pids {
            #expect(ShellCommand.isRunning(pid) == false, "pid \(pid) still running after stop")
        }
        #expect(ShellCommand.postmasterRunning(dataDirectory: state + "/pg/primary") == false)
        #expect(ShellCommand.postmasterRunning(dataDirectory: state + "/pg/replica") == false)
        _ = try? await Self.run(["/bin/rm", "-rf", state], environment: [:], timeout: .seconds(30))
    }
}
