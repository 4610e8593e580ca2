#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory, descriptor and thread figures of a process, for "a 1 GiB transfer never sits in
/// memory" and leak tests. Linux only (reads /proc); elsewhere the figures are 0 (or empty).
public enum ProcessMemory {
    /// Resident set size in bytes (VmRSS from /proc/self/status), 0 when unavailable.
    public static func residentBytes() -> Int {
        self.statusField("VmRSS:").map { $0 * 1024 } ?? 0
    }

    /// Peak resident set size in bytes (VmHWM from /proc/self/status), 0 when unavailable.
    public static func peakResidentBytes() -> Int {
        self.statusField("VmHWM:").map { $0 * 1024 } ?? 0
    }

    /// Number of open file descriptors (entries of /proc/self/fd), 0 when unavailable.
    public static func openFileDescriptorCount() -> Int {
        // Do not count the descriptor opendir itself holds.
        max(0, self.entryCount("/proc/self/fd") - 1)
    }

    /// Resident set size in bytes of another process (VmRSS from /proc/PID/status), 0 when unavailable.
    public static func residentBytes(pid: Int32) -> Int {
        self.statusField("VmRSS:", path: "/proc/\(pid)/status").map { $0 * 1024 } ?? 0
    }

    /// Number of open file descriptors of another process (entries of /proc/PID/fd), 0 when unavailable.
    public static func openFileDescriptorCount(pid: Int32) -> Int {
        self.entryCount("/proc/\(pid)/fd")
    }

    /// Names of another process's threads (`/proc/PID/task/*/comm`), empty when unavailable.
    public static func threadNames(pid: Int32) -> [String] {
        self.entryNames("/proc/\(pid)/task").compactMap { task in
            self.readSmallFile("/proc/\(pid)/task/\(task)/comm").map { String($0.prefix { $0 != "\n" }) }
        }
    }

    /// Entries of a directory other than `.` and `..`, 0 when it cannot be read.
    private static func entryCount(_ path: String) -> Int {
        self.entryNames(path).count
    }

    /// Names of a directory's entries other than `.` and `..`, empty when it cannot be read.
    private static func entryNames(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The number in kB of a `Name:   123 kB` line of /proc/self/status (or `path`).
    static func statusField(_ name: String, path: String = "/proc/self/status") -> Int? {
        guard let text = self.readSmallFile(path) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let digits = line.dropFirst(name.count).filter { $0.isNumber }
            return Int(digits)
        }
        return nil
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
