import Prometheus
import Synchronization

/// The router's Prometheus metrics (SPEC §7), on a registry of its own.
///
/// The recording methods are called from event loops on the request path: the
/// first call for a label set creates the series (the registry's lock); every
/// later call finds it in a small lock-protected cache (one uncontended lock;
/// a dictionary lookup unless the labels are the last call's) and updates it
/// with atomics (counters, gauges) or one short lock (the histogram).
///
/// The registry is used directly rather than through a global
/// `MetricsSystem.bootstrap`: the names, labels and help texts are ours and
/// fixed, tests get an isolated instance each, and nothing else in the
/// process emits swift-metrics that we would want to merge in.
///
/// Series:
/// - `switchyard_requests_total{route,reason,code}` counter
/// - `switchyard_request_duration_seconds{route}` histogram (0.5 ms … 10 s)
/// - `switchyard_replica_lag_seconds{replica}`, `switchyard_replica_lag_bytes{replica}` gauges
///   (NaN while unknown), `switchyard_replica_in_rotation{replica}` gauge (1/0)
/// - `switchyard_server_up{pool,server}` gauge (1/0); `pool` is `primary` or the replica's name
/// - `switchyard_rotation_changes_total{replica,cause}` counter; `cause` is the cause of going
///   out, or `readmitted` for coming back
/// - `switchyard_pins_issued_total`, `switchyard_upstream_retries_total` counters
public final class SwitchyardMetrics: Sendable {
    /// Histogram buckets of `switchyard_request_duration_seconds`, in seconds.
    public static let durationBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// The `cause` label of a rotation change that brought a replica back.
    public static let readmittedCause = "readmitted"

    /// The full series names, as exported.
    public enum Name {
        public static let requests = "switchyard_requests_total"
        public static let duration = "switchyard_request_duration_seconds"
        public static let lagSeconds = "switchyard_replica_lag_seconds"
        public static let lagBytes = "switchyard_replica_lag_bytes"
        public static let inRotation = "switchyard_replica_in_rotation"
        public static let serverUp = "switchyard_server_up"
        public static let rotationChanges = "switchyard_rotation_changes_total"
        public static let pins = "switchyard_pins_issued_total"
        public static let retries = "switchyard_upstream_retries_total"
    }

    /// Name parts and help text of each series (`switchyard_` + name + `_` + unit).
    enum Series {
        static var requests: MetricNameDescriptor {
            Self.make("requests", unit: "total", "Proxied requests by route, reason and response status code.")
        }
        static var duration: MetricNameDescriptor {
            Self.make("request_duration", unit: "seconds", "Time from request head to the end of the response, in seconds.")
        }
        static var lagSeconds: MetricNameDescriptor {
            Self.make("replica_lag", unit: "seconds", "Replay lag of the replica as the router measures it, in seconds (NaN while unknown).")
        }
        static var lagBytes: MetricNameDescriptor {
            Self.make("replica_lag", unit: "bytes", "Bytes of WAL the replica has not replayed yet (NaN while unknown).")
        }
        static var inRotation: MetricNameDescriptor {
            Self.make("replica_in_rotation", unit: "", "1 while the replica takes reads, 0 while it is out of rotation.")
        }
        static var serverUp: MetricNameDescriptor {
            Self.make("server_up", unit: "", "1 while the app server is up (passive and active health), 0 while it is out.")
        }
        static var rotationChanges: MetricNameDescriptor {
            Self.make("rotation_changes", unit: "total", "Times a replica left rotation (by cause) or came back (cause=readmitted).")
        }
        static var pins: MetricNameDescriptor {
            Self.make("pins_issued", unit: "total", "Pin cookies set on responses.")
        }
        static var retries: MetricNameDescriptor {
            Self.make("upstream_retries", unit: "total", "Requests tried again on another app server after a connection failure.")
        }

        private static func make(_ name: String, unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "switchyard", subsystem: nil, metricName: name, unitName: unit, helpText: help)
        }
    }

    private struct RequestKey: Hashable {
        var route: String
        var reason: String
        var code: Int
    }

    /// The two series one finished request updates, and our own tally of it
    /// (Prometheus counters cannot be read back) for `/status` totals. A class:
    /// taking it out of the cache is one retain, not one per series.
    private final class RequestSeries: Sendable {
        let count: Counter
        let duration: ValueHistogram
        let tally = Atomic<Int>(0)

        init(count: Counter, duration: ValueHistogram) {
            self.count = count
            self.duration = duration
        }
    }

    /// The series by label set, and the last one used: consecutive requests
    /// mostly share their labels, and comparing three labels costs less than
    /// hashing them.
    private struct RequestCache {
        var series: [RequestKey: RequestSeries] = [:]
        var lastKey: RequestKey?
        var lastSeries: RequestSeries?
    }

    private struct ReplicaGauges {
        var lagSeconds: Gauge
        var lagBytes: Gauge
        var inRotation: Gauge
    }

    private struct PoolServer: Hashable {
        var pool: String
        var server: String
    }

    private struct RotationKey: Hashable {
        var replica: String
        var cause: String
    }

    public let registry: PrometheusCollectorRegistry
    private let requests = Mutex(RequestCache())
    private let replicas = Mutex<[String: ReplicaGauges]>([:])
    private let servers = Mutex<[PoolServer: Gauge]>([:])
    private let rotationChanges = Mutex<[RotationKey: Counter]>([:])
    private let pins: Counter
    private let retries: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.pins = registry.makeCounter(descriptor: Series.pins)
        self.retries = registry.makeCounter(descriptor: Series.retries)
    }

    /// The Prometheus text exposition (format 0.0.4) of every series, from the registry.
    public func render() -> String {
        self.registry.emitToString()
    }

    /// The same, as bytes (what `/metrics` writes).
    public func renderBytes() -> [UInt8] {
        self.registry.emitToBuffer()
    }

    // MARK: Request path

    /// One proxied request finished: counts it and records its duration.
    public func requestFinished(route: String, reason: String, code: Int, durationSeconds: Double) {
        let key = RequestKey(route: route, reason: reason, code: code)
        let series = self.requests.withLock { cache in
            if cache.lastKey == key, let last = cache.lastSeries {
                return last
            }
            if let existing = cache.series[key] {
                cache.lastKey = key
                cache.lastSeries = existing
                return existing
            }
            // The registry hands back the existing series for a label set it already has.
            let created = RequestSeries(
                count: self.registry.makeCounter(
                    descriptor: Series.requests, labels: [("route", route), ("reason", reason), ("code", String(code))]),
                duration: self.registry.makeValueHistogram(
                    descriptor: Series.duration, labels: [("route", route)], buckets: Self.durationBuckets))
            cache.series[key] = created
            cache.lastKey = key
            cache.lastSeries = created
            return created
        }
        series.count.increment()
        series.tally.wrappingAdd(1, ordering: .relaxed)
        series.duration.record(durationSeconds.isFinite ? max(0, durationSeconds) : 0)
    }

    /// The `/status` totals: every request counted by ``requestFinished(route:reason:code:durationSeconds:)``
    /// since start, by route and by reason.
    public func requestTotals() -> StatusDocument.Totals {
        let tallies = self.requests.withLock { cache in
            cache.series.map { ($0.key.route, $0.key.reason, $0.value.tally.load(ordering: .relaxed)) }
        }
        var totals = StatusDocument.Totals(requests: 0, byRoute: [:], byReason: [:])
        for (route, reason, count) in tallies {
            totals.requests += count
            totals.byRoute[route, default: 0] += count
            totals.byReason[reason, default: 0] += count
        }
        return totals
    }

    /// A pin cookie was set on a response.
    public func pinIssued() {
        self.pins.increment()
    }

    /// A request was tried again on another server.
    public func upstreamRetried() {
        self.retries.increment()
    }

    /// An app server went up or down. `pool` is `primary` or the replica's name; `server` its address.
    public func setServerUp(pool: String, server: String, up: Bool) {
        let key = PoolServer(pool: pool, server: server)
        let gauge = self.servers.withLock { cache in
            if let existing = cache[key] {
                return existing
            }
            let created = self.registry.makeGauge(
                descriptor: Series.serverUp, labels: [("pool", pool), ("server", server)])
            cache[key] = created
            return created
        }
        gauge.set(to: up ? 1 : 0)
    }

    // MARK: Lag rounds

    /// One replica's figures from a poll round. Unknown lag is exported as NaN
    /// (a 0 would read as "caught up").
    public func setReplica(name: String, lagSeconds: Double?, lagBytes: UInt64?, inRotation: Bool) {
        let gauges = self.replicaGauges(name)
        gauges.lagSeconds.set(to: lagSeconds ?? .nan)
        gauges.lagBytes.set(to: lagBytes.map { Double($0) } ?? .nan)
        gauges.inRotation.set(to: inRotation ? 1 : 0)
    }

    /// A replica left rotation (`cause`: `lag`, `lag-bytes`, `unreachable`, `promoted`,
    /// `receiver-down`, `drained`) or came back (`cause` nil → `readmitted`).
    public func rotationChanged(replica: String, cause: String?) {
        let key = RotationKey(replica: replica, cause: cause ?? Self.readmittedCause)
        let counter = self.rotationChanges.withLock { cache in
            if let existing = cache[key] {
                return existing
            }
            let created = self.registry.makeCounter(
                descriptor: Series.rotationChanges, labels: [("replica", key.replica), ("cause", key.cause)])
            cache[key] = created
            return created
        }
        counter.increment()
    }

    // MARK: Reload

    /// Removes a replica's gauges and its servers' (after a reload dropped it).
    public func forgetReplica(name: String) {
        if let gauges = self.replicas.withLock({ $0.removeValue(forKey: name) }) {
            self.registry.unregisterGauge(gauges.lagSeconds)
            self.registry.unregisterGauge(gauges.lagBytes)
            self.registry.unregisterGauge(gauges.inRotation)
        }
        let dropped = self.servers.withLock { cache in
            let keys = cache.keys.filter { $0.pool == name }
            return keys.compactMap { cache.removeValue(forKey: $0) }
        }
        for gauge in dropped {
            self.registry.unregisterGauge(gauge)
        }
    }

    /// Removes one server's `switchyard_server_up` series (after a reload dropped it).
    public func forgetServer(pool: String, server: String) {
        if let gauge = self.servers.withLock({ $0.removeValue(forKey: PoolServer(pool: pool, server: server)) }) {
            self.registry.unregisterGauge(gauge)
        }
    }

    private func replicaGauges(_ name: String) -> ReplicaGauges {
        self.replicas.withLock { cache in
            if let existing = cache[name] {
                return existing
            }
            let labels = [("replica", name)]
            let created = ReplicaGauges(
                lagSeconds: self.registry.makeGauge(descriptor: Series.lagSeconds, labels: labels),
                lagBytes: self.registry.makeGauge(descriptor: Series.lagBytes, labels: labels),
                inRotation: self.registry.makeGauge(descriptor: Series.inRotation, labels: labels))
            cache[name] = created
            return created
        }
    }
}
