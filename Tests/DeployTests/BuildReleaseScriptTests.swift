import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `deploy/build-release.sh` against a stand-in `swift` on PATH that records
/// its arguments: the flags it passes (the SwiftNIO function name reaches the
/// compiler with its `$`), the retry without `-sil-inline-generics` when the
/// compiler crashes, and no retry on an ordinary compile error.
@Suite("deploy/build-release.sh")
struct BuildReleaseScriptTests {
    static let script = DemoScriptTests.root + "/deploy/build-release.sh"

    /// A directory of the test's own (`name`) with an executable `swift` that appends its
    /// arguments to `calls.log` and, with -sil-inline-generics among them, fails as `mode` says.
    static func standIn(_ name: String, mode: String) throws -> String {
        let directory = "/tmp/sy-build-release-test-\(getpid())-\(name)"
        mkdir(directory, 0o755)
        let body = """
            #!/usr/bin/env bash
            printf '%s\\n' "$*" >> "\(directory)/calls.log"
            case " $* " in
              *" -sil-inline-generics=true "*)
                case "\(mode)" in
                  crash) echo "error: compile command failed due to signal 11 (use -v to see invocation)"; exit 1 ;;
                  error) echo "error: cannot find 'x' in scope"; exit 1 ;;
                esac ;;
            esac
            exit 0

            """
        let path = directory + "/swift"
        try ServeProcessTests.write(body, to: path)
        chmod(path, 0o755)
        unlink(directory + "/calls.log")
        return directory
    }

    static func remove(_ directory: String) {
        unlink(directory + "/calls.log")
        unlink(directory + "/swift")
        rmdir(directory)
    }

    static func calls(in directory: String) -> [String] {
        (ShellCommand.readFile(directory + "/calls.log") ?? "").split(separator: "\n").map(String.init)
    }

    /// Runs the script (`--product switchyard`) with the stand-in first on PATH; returns its
    /// status and output and the stand-in's calls, one line of arguments each.
    static func run(_ name: String, mode: String, extra: [String: String] = [:]) async throws -> (status: Int32, output: String, calls: [String]) {
        let directory = try Self.standIn(name, mode: mode)
        defer { Self.remove(directory) }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        var environment = ["PATH": directory + ":" + path]
        environment.merge(extra) { _, new in new }
        let result = try await ShellCommand.run([Self.script, "--product", "switchyard"], environment: environment, timeout: .seconds(60))
        return (result.status, result.output, Self.calls(in: directory))
    }

    @Test func passesTheInliningFlagsWithTheFunctionNameIntact() async throws {
        let result = try await Self.run("flags", mode: "ok")
        let calls = result.calls
        #expect(result.status == 0, "\(result.output)")
        #expect(calls.count == 1, "\(calls)")
        let call = calls.first ?? ""
        #expect(call.hasPrefix("build -c release --static-swift-stdlib --experimental-lto-mode=full"), "\(call)")
        #expect(call.contains("-Xswiftc -Xllvm -Xswiftc -sil-inline-generics=true"), "\(call)")
        #expect(call.contains("-sil-disable-pass-only-function=$s8NIOPosix28HappyEyeballsConnectorRunner"), "\(call)")
        #expect(call.hasSuffix("--product switchyard"), "\(call)")
    }

    @Test func retriesWithoutInliningGenericsWhenTheCompilerCrashes() async throws {
        let result = try await Self.run("crash", mode: "crash")
        let calls = result.calls
        #expect(result.status == 0, "\(result.output)")
        #expect(calls.count == 2, "\(calls)")
        #expect(calls.first?.contains("-sil-inline-generics=true") == true, "\(calls)")
        #expect(calls.last?.contains("-sil-") == false, "\(calls)")
        #expect(calls.last?.hasSuffix("--product switchyard") == true, "\(calls)")
        #expect(result.output.contains("building again without it"), "\(result.output)")
    }

    @Test func anOrdinaryCompileErrorFailsWithoutARetry() async throws {
        let result = try await Self.run("error", mode: "error")
        #expect(result.status == 1, "\(result.output)")
        #expect(result.calls.count == 1)
        #expect(result.output.contains("cannot find 'x' in scope"))
    }

    @Test func switchyardInlineGenericsZeroLeavesTheFlagsOut() async throws {
        let result = try await Self.run("off", mode: "crash", extra: ["SWITCHYARD_INLINE_GENERICS": "0"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.calls.count == 1 && result.calls.first?.contains("-sil-") == false, "\(result.calls)")
    }
}
