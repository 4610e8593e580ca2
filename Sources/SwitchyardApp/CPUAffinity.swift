#if canImport(Glibc)
import Glibc
#endif

/// How many CPUs this process may run on: the smaller of NIO's count (which
/// honours cgroup quotas and cpusets) and the scheduler affinity mask (which
/// `taskset` sets). One event loop per usable CPU, like nginx's `worker_processes auto`.
public enum CPUAffinity {
    public static func usableCPUs(fallback: Int) -> Int {
        guard let list = self.allowedList() else { return max(1, fallback) }
        var count = 0
        for range in list.split(separator: ",") {
            let bounds = range.split(separator: "-")
            if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), high >= low {
                count += high - low + 1
            } else if bounds.count == 1, Int(bounds[0]) != nil {
                count += 1
            }
        }
        return count > 0 ? min(count, max(1, fallback)) : max(1, fallback)
    }

    /// `Cpus_allowed_list` from /proc/self/status, e.g. `0-1` or `0,2`.
    private static func allowedList() -> Substring? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if line.hasPrefix("Cpus_allowed_list:") {
                return line.dropFirst("Cpus_allowed_list:".count).drop { $0 == " " || $0 == "\t" }.prefix { $0 != "\n" }
            }
        }
        return nil
    }
}
