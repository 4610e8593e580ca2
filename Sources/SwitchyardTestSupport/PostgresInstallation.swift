import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the PostgreSQL server binaries are and which OS user runs them.
///
/// PostgreSQL refuses to run as root. When the test process is root (CI, this machine), every server
/// command runs as the `postgres` OS user through `setpriv` (exec, no fork, no PAM session; `runuser -u
/// postgres --` is the fallback). Otherwise commands run as the current user.
struct PostgresInstallation: Sendable {
    enum Identity: Sendable {
        case currentUser
        /// Commands run as `switcher switcherArguments... TOOL ARGS...` (e.g. `setpriv --reuid=postgres ...`).
        case postgresUser(uid: UInt32, gid: UInt32, switcher: String, switcherArguments: [String])
    }

    static let requiredTools = ["initdb", "pg_ctl", "pg_basebackup", "postgres", "psql"]
    static let installHint =
        "Install them with `apt-get install -y postgresql libpq-dev` (Debian/Ubuntu; the real-PostgreSQL tests "
        + "need the server binaries, not just the client), or point SWITCHYARD_PG_BINDIR at the directory that "
        + "holds initdb"

    let binDirectory: String
    /// The output of `postgres --version`, e.g. `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`.
    let versionString: String
    let majorVersion: Int
    let identity: Identity

    /// Finds the binaries (the explicit directory, else `SWITCHYARD_PG_BINDIR`, else the newest
    /// `/usr/lib/postgresql/*/bin`, `pg_config --bindir`, `/usr/local/pgsql/bin`) and the user to run them as.
    /// Throws ``PostgresFixtureError/Code/serverBinariesMissing`` with install instructions when nothing fits.
    static func discover(binDirectory explicit: String?) async throws -> PostgresInstallation {
        #if !os(Linux)
        throw PostgresFixtureError(.unsupportedPlatform, "the PostgreSQL test fixture runs on Linux only")
        #else
        let environment = ProcessInfo.processInfo.environment
        let searched: [String]
        if let explicit {
            searched = [explicit]
        } else if let fromEnvironment = environment["SWITCHYARD_PG_BINDIR"], !fromEnvironment.isEmpty {
            searched = [fromEnvironment]
        } else {
            var candidates = self.debianBinDirectories()
            if let fromPgConfig = await self.pgConfigBinDirectory(), !candidates.contains(fromPgConfig) {
                candidates.append(fromPgConfig)
            }
            candidates.append("/usr/local/pgsql/bin")
            searched = candidates
        }
        guard let binDirectory = searched.first(where: self.hasAllTools(in:)) else {
            let missing = searched.map { directory in
                let absent = self.requiredTools.filter { access(directory + "/" + $0, X_OK) != 0 }
                return "\(directory) (missing: \(absent.joined(separator: ", ")))"
            }
            throw PostgresFixtureError(
                .serverBinariesMissing,
                "PostgreSQL server binaries (\(self.requiredTools.joined(separator: ", "))) not found; searched "
                    + (missing.isEmpty ? "nothing" : missing.joined(separator: ", ")) + ". " + self.installHint
            )
        }

        let identity = try self.identity()
        let probe = PostgresInstallation(binDirectory: binDirectory, versionString: "", majorVersion: 0, identity: identity)
        let versionResult = try await PostgresProcessRunner.run(
            probe.command("postgres", ["--version"], workingDirectory: "/", timeout: .seconds(30))
        )
        let versionString = versionResult.standardOutput.trimmingWhitespace()
        guard versionResult.succeeded, let major = self.majorVersion(of: versionString) else {
            throw PostgresFixtureError(
                .serverBinariesMissing,
                "\(binDirectory)/postgres --version failed (\(versionResult.termination))"
                    + PostgresProcessRunner.outputSuffix(versionResult) + ". " + self.installHint
            )
        }
        guard major >= 13 else {
            throw PostgresFixtureError(
                .serverBinariesMissing,
                "\(versionString) in \(binDirectory) is too old: the fixture needs PostgreSQL 13 or newer (15 is tested). "
                    + self.installHint
            )
        }
        return PostgresInstallation(
            binDirectory: binDirectory,
            versionString: versionString,
            majorVersion: major,
            identity: identity
        )
        #endif
    }

    /// `/usr/lib/postgresql/<major>/bin`, newest first.
    static func debianBinDirectories() -> [String] {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions
            .compactMap { name in Int(name).map { (major: $0, name: name) } }
            .sorted { $0.major > $1.major }
            .map { "\(root)/\($0.name)/bin" }
    }

    static func pgConfigBinDirectory() async -> String? {
        let candidates = ["/usr/bin/pg_config", "/usr/local/bin/pg_config"]
        guard let pgConfig = candidates.first(where: { access($0, X_OK) == 0 }) else { return nil }
        let command = PostgresCommand(
            executable: pgConfig,
            arguments: ["--bindir"],
            environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"],
            workingDirectory: "/",
            standardInput: nil,
            timeout: .seconds(30),
            displayName: "pg_config --bindir"
        )
        guard let result = try? await PostgresProcessRunner.run(command), result.succeeded else { return nil }
        let directory = result.standardOutput.trimmingWhitespace()
        return directory.hasPrefix("/") ? directory : nil
    }

    static func hasAllTools(in directory: String) -> Bool {
        self.requiredTools.allSatisfy { access(directory + "/" + $0, X_OK) == 0 }
    }

    /// 15 from `postgres (PostgreSQL) 15.18 (Debian ...)`, 13 from `postgres (PostgreSQL) 13.4`.
    static func majorVersion(of versionString: String) -> Int? {
        guard let marker = versionString.range(of: "(PostgreSQL) ") else { return nil }
        let digits = versionString[marker.upperBound...].prefix { $0.isNumber }
        return Int(digits)
    }

    static func identity() throws -> Identity {
        guard geteuid() == 0 else { return .currentUser }
        guard let (uid, gid) = self.lookUpUser("postgres") else {
            throw PostgresFixtureError(
                .postgresUserMissing,
                "running as root, but there is no `postgres` OS user to run the servers as (PostgreSQL refuses root). "
                    + "`apt-get install -y postgresql libpq-dev` creates it"
            )
        }
        let setprivPaths: [String] = ["/usr/bin/setpriv", "/bin/setpriv"]
        let runuserPaths: [String] = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        if let setpriv = setprivPaths.first(where: { access($0, X_OK) == 0 }) {
            return .postgresUser(
                uid: uid,
                gid: gid,
                switcher: setpriv,
                switcherArguments: ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
            )
        }
        if let runuser = runuserPaths.first(where: { access($0, X_OK) == 0 }) {
            return .postgresUser(uid: uid, gid: gid, switcher: runuser, switcherArguments: ["-u", "postgres", "--"])
        }
        throw PostgresFixtureError(
            .postgresUserMissing,
            "running as root, but neither setpriv nor runuser (util-linux) is available to switch to the `postgres` user"
        )
    }

    static func lookUpUser(_ name: String) -> (uid: UInt32, gid: UInt32)? {
        var entry = passwd()
        var buffer = [CChar](repeating: 0, count: 16_384)
        var result: UnsafeMutablePointer<passwd>?
        let rc = buffer.withUnsafeMutableBufferPointer { storage -> Int32 in
            guard let base = storage.baseAddress else { return ERANGE }
            return getpwnam_r(name, &entry, base, storage.count, &result)
        }
        guard rc == 0, result != nil else { return nil }
        return (UInt32(entry.pw_uid), UInt32(entry.pw_gid))
    }

    /// The uid/gid that must own the cluster's directory and files (nil: the current user, nothing to change).
    var owner: (uid: UInt32, gid: UInt32)? {
        switch self.identity {
        case .currentUser:
            return nil
        case .postgresUser(let uid, let gid, _, _):
            return (uid, gid)
        }
    }

    /// Runs `<binDirectory>/<tool> arguments...` as the server user with a clean environment.
    func command(
        _ tool: String,
        _ arguments: [String],
        workingDirectory: String,
        standardInput: String? = nil,
        timeout: Duration
    ) -> PostgresCommand {
        let path = self.binDirectory + "/" + tool
        var environment = [
            "PATH": "\(self.binDirectory):/usr/bin:/bin",
            "LC_ALL": "C",
            "LANG": "C",
            "HOME": workingDirectory,
        ]
        let executable: String
        let fullArguments: [String]
        switch self.identity {
        case .currentUser:
            executable = path
            fullArguments = arguments
        case .postgresUser(_, _, let switcher, let switcherArguments):
            executable = switcher
            fullArguments = switcherArguments + [path] + arguments
            environment["USER"] = "postgres"
            environment["LOGNAME"] = "postgres"
        }
        return PostgresCommand(
            executable: executable,
            arguments: fullArguments,
            environment: environment,
            workingDirectory: workingDirectory,
            standardInput: standardInput,
            timeout: timeout,
            displayName: ([tool] + arguments).joined(separator: " ")
        )
    }
}
