#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwitchyardConfig
import SwitchyardCore
import Testing

@Suite("ConfigLoader.load")
struct LoadTests {
    /// A fresh directory under the system temporary directory.
    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/switchyard-config-tests-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }
        }
        let directory = try #require(created.map { String(cString: $0) })
        return directory
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(descriptor >= 0)
        defer { _ = close(descriptor) }
        let written = bytes.withUnsafeBytes { raw in
            write(descriptor, raw.baseAddress, raw.count)
        }
        try #require(written == bytes.count)
    }

    @Test func missingFile() {
        #expect(throws: ConfigErrors(problems: [ConfigProblem(file: "/nonexistent/switchyard.yaml", message: "cannot read: No such file or directory")])) {
            try ConfigLoader.load(path: "/nonexistent/switchyard.yaml")
        }
    }

    @Test func missingFileDescription() {
        do {
            _ = try ConfigLoader.load(path: "nope/switchyard.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "nope/switchyard.yaml: cannot read: No such file or directory")
        }
    }

    @Test func directory() throws {
        let directory = try LoadTests.temporaryDirectory()
        defer { _ = rmdir(directory) }
        do {
            _ = try ConfigLoader.load(path: directory)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(directory): cannot read: Is a directory")
        }
    }

    @Test func validFile() throws {
        let directory = try LoadTests.temporaryDirectory()
        let path = directory + "/switchyard.yaml"
        try LoadTests.writeFile(Array(Fixtures.specExample.utf8), to: path)
        defer {
            _ = unlink(path)
            _ = rmdir(directory)
        }
        let config = try ConfigLoader.load(path: path)
        #expect(ConfigLoader.summary(of: config) == "config ok: 2 primary servers, 1 replicas, 2 rules")
    }

    @Test func invalidFileUsesThePathAsGiven() throws {
        let directory = try LoadTests.temporaryDirectory()
        let path = directory + "/./bad.yaml"
        try LoadTests.writeFile(Array((Fixtures.minimal + "pin: { mode: never }\n").utf8), to: path)
        defer {
            _ = unlink(path)
            _ = rmdir(directory)
        }
        do {
            _ = try ConfigLoader.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(path):9:14: pin.mode must be one of lsn, ttl, found 'never'")
        }
    }

    @Test func fileTooLarge() throws {
        let directory = try LoadTests.temporaryDirectory()
        let path = directory + "/huge.yaml"
        try LoadTests.writeFile(Array(repeating: UInt8(ascii: "#"), count: 16 * 1024 * 1024 + 1), to: path)
        defer {
            _ = unlink(path)
            _ = rmdir(directory)
        }
        #expect(throws: ConfigErrors(problems: [ConfigProblem(file: path, message: "cannot read: the file is larger than 16 MiB")])) {
            try ConfigLoader.load(path: path)
        }
    }

    @Test func notUTF8() throws {
        let directory = try LoadTests.temporaryDirectory()
        let path = directory + "/latin1.yaml"
        try LoadTests.writeFile(Array("listen: caf".utf8) + [0xE9, 0x0A], to: path)
        defer {
            _ = unlink(path)
            _ = rmdir(directory)
        }
        #expect(throws: ConfigErrors(problems: [ConfigProblem(file: path, message: "cannot read: the file is not valid UTF-8 text")])) {
            try ConfigLoader.load(path: path)
        }
    }
}
