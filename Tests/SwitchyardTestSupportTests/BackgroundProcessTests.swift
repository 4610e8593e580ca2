import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("BackgroundProcess: waiting for a startup line")
struct BackgroundProcessTests {
    static func outputPath(_ name: String) -> String { "/tmp/sy-bgp-\(name)-\(getpid()).log" }

    @Test func returnsOnceTheLineIsPrinted() async throws {
        let process = try BackgroundProcess.start(
            ["/bin/sh", "-c", "sleep 0.2; echo ready; exec sleep 30"], outputPath: Self.outputPath("ready"))
        defer { process.kill() }
        try await process.waitForOutput(containing: "ready", timeout: .seconds(20))
        #expect(process.poll() == nil)
    }

    @Test func anExitBeforeTheLineFailsAtOnceWithTheOutput() async throws {
        let process = try BackgroundProcess.start(
            ["/bin/sh", "-c", "echo 'cannot listen: Address already in use'; exit 3"], outputPath: Self.outputPath("exit"))
        defer { process.kill() }
        let started = ContinuousClock.now
        let error = await #expect(throws: BackgroundProcessError.self) {
            try await process.waitForOutput(containing: "listening", timeout: .seconds(60))
        }
        #expect(error?.problem.contains("exited with status 3") == true)
        #expect(error?.output.contains("Address already in use") == true)
        // Not the whole 60 s: the exit ends the wait.
        #expect(ContinuousClock.now - started < .seconds(50))
    }

    @Test func aTimeoutSaysTheProcessIsStillRunning() async throws {
        let process = try BackgroundProcess.start(["/bin/sh", "-c", "echo starting; exec sleep 30"], outputPath: Self.outputPath("hang"))
        defer { process.kill() }
        let error = await #expect(throws: BackgroundProcessError.self) {
            try await process.waitForOutput(containing: "ready", timeout: .milliseconds(300))
        }
        #expect(error?.problem.contains("still running") == true)
        #expect(error?.output.contains("starting") == true)
    }

    @Test func unusedPortsAreDistinct() {
        let ports = FakeAppServer.unusedPorts(8)
        #expect(ports.count == 8)
        #expect(Set(ports).count == 8)
    }
}
