import Atomics
import Synchronization

/// What one writer (an event loop) records of finished requests: the counts
/// behind `switchyard_requests_total` and `switchyard_request_duration_seconds`
/// (SPEC §7). ``SwitchyardMetrics`` sums every recorder's counts when it
/// renders them.
///
/// One per event loop, used only there: a request finds its label set's slot
/// in the recorder's own table (the few used last first) and adds to it with
/// plain loads and stores of atomics, which need no lock and no locked
/// instruction because no one else writes them. The metrics' lock is taken
/// only when a label set appears for the first time on this loop.
public final class RequestRecorder {
    /// Where the metrics find this recorder's slots.
    private let registered: RequestSlots
    private var slots: [RequestSlot.Key: RequestSlot] = [:]
    /// The label sets used last (at most `recentLimit`, the oldest replaced
    /// first): consecutive requests mostly share one of a few (the bench's
    /// mix of reads, pinned reads and writes has three), and comparing them
    /// costs less than hashing them (a dictionary lookup of the three labels
    /// was ~560 instructions).
    private var recent: [RequestSlot] = []
    /// The one used last, compared first: one label set mostly follows itself.
    private var last: RequestSlot?
    /// Where the next label set not in `recent` goes once it is full.
    private var nextReplaced = 0
    private static let recentLimit = 4

    init(registeringIn registered: RequestSlots) {
        self.registered = registered
    }

    /// One request finished. `durationSeconds` is counted as 0 when negative or not finite.
    public func record(route: String, reason: String, code: Int, durationSeconds: Double) {
        let seconds = durationSeconds.isFinite ? max(0, durationSeconds) : 0
        if let last = self.last, last.key.code == code, last.key.route == route, last.key.reason == reason {
            last.add(seconds)
            return
        }
        for slot in self.recent where slot.key.code == code && slot.key.route == route && slot.key.reason == reason {
            self.last = slot
            slot.add(seconds)
            return
        }
        let key = RequestSlot.Key(route: route, reason: reason, code: code)
        let slot: RequestSlot
        if let existing = self.slots[key] {
            slot = existing
        } else {
            slot = RequestSlot(key: key, bounds: SwitchyardMetrics.durationBuckets)
            self.slots[key] = slot
            self.registered.append(slot)
        }
        self.last = slot
        if self.recent.count < Self.recentLimit {
            self.recent.append(slot)
        } else {
            self.recent[self.nextReplaced] = slot
            self.nextReplaced = (self.nextReplaced + 1) % Self.recentLimit
        }
        slot.add(seconds)
    }
}

/// Every recorder's slots, in the order they appeared: the one lock a
/// recorder takes, when a label set first appears on its loop.
final class RequestSlots: Sendable {
    private let slots = Mutex<[RequestSlot]>([])

    func append(_ slot: RequestSlot) {
        self.slots.withLock { $0.append(slot) }
    }

    var all: [RequestSlot] {
        self.slots.withLock { $0 }
    }
}

/// One recorder's counts for one label set: requests per duration bucket (not
/// cumulative: one bucket is counted per request; the exposition sums them)
/// and the sum of their durations.
///
/// Written by its recorder's loop only, read by the exposition from any
/// thread: each count is an atomic, loaded and stored without a
/// read-modify-write (a reader sees each count whole; a request may show in
/// a bucket a moment before it shows in the sum). `@unchecked Sendable`: the
/// counts live in memory the slot allocates, reached only through
/// `UnsafeAtomic`, and freed when the slot goes.
final class RequestSlot: @unchecked Sendable {
    struct Key: Hashable, Sendable {
        var route: String
        var reason: String
        var code: Int
    }

    let key: Key
    /// The buckets' upper bounds (`le`), ascending.
    let bounds: [Double]
    /// `bounds.count + 1` counts (the last: above every bound), then the sum's bits.
    private let storage: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>

    init(key: Key, bounds: [Double]) {
        self.key = key
        self.bounds = bounds
        self.storage = .allocate(capacity: bounds.count + 2)
        self.storage.initialize(repeating: UnsafeAtomic<Int>.Storage(0), count: bounds.count + 2)
    }

    deinit {
        self.storage.deinitialize(count: self.bounds.count + 2)
        self.storage.deallocate()
    }

    private func atomic(_ index: Int) -> UnsafeAtomic<Int> {
        UnsafeAtomic(at: self.storage + index)
    }

    /// Counts one request (its recorder's loop only).
    func add(_ seconds: Double) {
        var bucket = 0
        while bucket < self.bounds.count, self.bounds[bucket] < seconds { bucket += 1 }
        let count = self.atomic(bucket)
        count.store(count.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        let sum = self.atomic(self.bounds.count + 1)
        let total = Double(bitPattern: UInt64(UInt(bitPattern: sum.load(ordering: .relaxed)))) + seconds
        sum.store(Int(bitPattern: UInt(total.bitPattern)), ordering: .relaxed)
    }

    /// The counts per bucket (the last: above every bound) and the sum, as they are now.
    func read() -> (buckets: [Int], sum: Double) {
        let buckets = (0...self.bounds.count).map { self.atomic($0).load(ordering: .relaxed) }
        let bits = self.atomic(self.bounds.count + 1).load(ordering: .relaxed)
        return (buckets, Double(bitPattern: UInt64(UInt(bitPattern: bits))))
    }
}

/// The request series in the Prometheus text format (0.0.4), from every
/// slot: slots with the same label set (one per loop that saw it) are added up.
enum RequestSeriesText {
    static func render(_ slots: [RequestSlot], into text: inout String) {
        guard let bounds = slots.first?.bounds else { return }
        var counts: [RequestSlot.Key: Int] = [:]
        var keyOrder: [RequestSlot.Key] = []
        var routes: [String: (buckets: [Int], sum: Double)] = [:]
        var routeOrder: [String] = []
        for slot in slots {
            let (buckets, sum) = slot.read()
            if counts[slot.key] == nil { keyOrder.append(slot.key) }
            counts[slot.key, default: 0] += buckets.reduce(0, +)
            if routes[slot.key.route] == nil {
                routeOrder.append(slot.key.route)
                routes[slot.key.route] = (Array(repeating: 0, count: buckets.count), 0)
            }
            routes[slot.key.route]?.sum += sum
            for (index, count) in buckets.enumerated() {
                routes[slot.key.route]?.buckets[index] += count
            }
        }

        let requests = SwitchyardMetrics.Name.requests
        text += "# HELP \(requests) \(SwitchyardMetrics.Series.requests.helpText ?? "")\n"
        text += "# TYPE \(requests) counter\n"
        for key in keyOrder {
            let labels = "route=\"\(Self.escaped(key.route))\",reason=\"\(Self.escaped(key.reason))\",code=\"\(key.code)\""
            text += "\(requests){\(labels)} \(counts[key] ?? 0)\n"
        }

        let duration = SwitchyardMetrics.Name.duration
        text += "# HELP \(duration) \(SwitchyardMetrics.Series.duration.helpText ?? "")\n"
        text += "# TYPE \(duration) histogram\n"
        for route in routeOrder {
            guard let series = routes[route] else { continue }
            let label = "route=\"\(Self.escaped(route))\""
            var cumulative = 0
            for (index, bound) in bounds.enumerated() {
                cumulative += series.buckets[index]
                text += "\(duration)_bucket{\(label),le=\"\(bound)\"} \(cumulative)\n"
            }
            cumulative += series.buckets[bounds.count]
            text += "\(duration)_bucket{\(label),le=\"+Inf\"} \(cumulative)\n"
            text += "\(duration)_sum{\(label)} \(series.sum)\n"
            text += "\(duration)_count{\(label)} \(cumulative)\n"
        }
    }

    /// A label value as the format wants it: backslash, double quote and line feed escaped.
    static func escaped(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        var escaped = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
