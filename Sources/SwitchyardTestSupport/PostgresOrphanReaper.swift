import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Cleans up after test processes that died without shutting their clusters down (a crash, Ctrl-C, a CI
/// step killed at its time limit): their postmasters live on (pg_ctl detaches them) and keep ports,
/// memory and a directory in /tmp.
///
/// Every cluster directory holds an `owner` file naming the test process (pid, its start time, its pid
/// namespace). The first ``PostgresCluster/start(replicas:options:)`` of a process looks at the other
/// `switchyard-pg-*` directories of the same base directory and tears down those whose owner is gone:
/// same pid namespace, and no process with that pid and start time any more. Clusters of live processes
/// (parallel test runs, other worktrees), of other pid namespaces, or without an owner file are left alone.
enum PostgresOrphanReaper {
    static let ownerFileName = "owner"
    static let directoryPrefix = "switchyard-pg-"
    private static let reapedBaseDirectories = Mutex<Set<String>>([])

    struct Owner: Sendable, Equatable {
        var pid: Int32
        var startTime: UInt64
        var pidNamespace: String
    }

    /// This process as an owner; nil where /proc is unavailable.
    static func currentOwner() -> Owner? {
        let pid = getpid()
        guard let stat = PostgresProcessTree.stat(of: pid), let namespace = self.pidNamespace() else { return nil }
        return Owner(pid: pid, startTime: stat.startTime, pidNamespace: namespace)
    }

    /// `pid:[4026531836]`, the target of `/proc/self/ns/pid`.
    static func pidNamespace() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBufferPointer { storage -> Int in
            guard let base = storage.baseAddress else { return -1 }
            return readlink("/proc/self/ns/pid", base, storage.count - 1)
        }
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func writeOwnerFile(in directory: String) throws {
        guard let owner = self.currentOwner() else { return }
        let text = "pid=\(owner.pid)\nstart=\(owner.startTime)\npidns=\(owner.pidNamespace)\n"
        let path = directory + "/" + self.ownerFileName
        do {
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            throw PostgresFixtureError(.fileSystem, "cannot write \(path): \(error)")
        }
    }

    static func readOwner(of directory: String) -> Owner? {
        guard let text = ProcessMemory.readSmallFile(directory + "/" + self.ownerFileName) else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 {
                fields[String(parts[0])] = String(parts[1])
            }
        }
        guard let pid = fields["pid"].flatMap({ Int32($0) }),
            let startTime = fields["start"].flatMap({ UInt64($0) }),
            let namespace = fields["pidns"]
        else { return nil }
        return Owner(pid: pid, startTime: startTime, pidNamespace: namespace)
    }

    /// True when `owner` is still alive (same pid, same start time, not a zombie).
    static func isAlive(_ owner: Owner) -> Bool {
        PostgresProcessTree.isRunning(PostgresProcessIdentity(pid: owner.pid, startTime: owner.startTime))
    }

    /// Reaps the orphans of `baseDirectory`, once per base directory per process.
    static func reapOnce(
        in baseDirectory: String,
        installation: PostgresInstallation,
        options: PostgresCluster.Options,
        logger: Logger
    ) async {
        let first = self.reapedBaseDirectories.withLock { $0.insert(baseDirectory).inserted }
        guard first else { return }
        await self.reap(in: baseDirectory, installation: installation, options: options, logger: logger)
    }

    /// Tears down every orphaned cluster directory of `baseDirectory` (see the type's documentation).
    static func reap(
        in baseDirectory: String,
        installation: PostgresInstallation,
        options: PostgresCluster.Options,
        logger: Logger
    ) async {
        guard let me = self.currentOwner() else { return }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: baseDirectory)) ?? []
        let allowedOwners = Set([geteuid()] + (installation.owner.map { [$0.uid] } ?? []))
        for entry in entries.sorted() where entry.hasPrefix(self.directoryPrefix) {
            let directory = baseDirectory + "/" + entry
            guard let owner = self.readOwner(of: directory),
                owner.pidNamespace == me.pidNamespace,
                owner != me,
                !self.isAlive(owner),
                self.isOwned(directory, byOneOf: allowedOwners)
            else { continue }
            let dataDirectories = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { FileManager.default.fileExists(atPath: directory + "/" + $0 + "/PG_VERSION") }
            logger.warning(
                "tearing down an orphaned cluster whose test process is gone",
                metadata: ["pg_orphan": "\(directory)", "owner_pid": "\(owner.pid)", "nodes": "\(dataDirectories)"]
            )
            let control = PostgresServerControl(
                installation: installation,
                options: options,
                logger: logger,
                directory: directory
            )
            await control.tearDown(names: dataDirectories)
        }
    }

    static func isOwned(_ path: String, byOneOf owners: Set<UInt32>) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return false }
        return owners.contains(UInt32(info.st_uid))
    }
}
