import Prometheus
import Synchronization

/// The router's Prometheus metrics (SPEC §7), on a registry of its own.
///
/// The request series are kept apart from the registry: each event loop
/// records its finished requests in a ``RequestRecorder`` of its own (no lock,
/// no shared cache line), and ``render()`` adds every recorder's counts up
/// after the registry's series. Everything else (gauges, the pin and retry
/// counters, rotation changes) is the registry's: updated with atomics, or
/// once a poll round.
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
    /// Every recorder's slots (read by `render`).
    private let requestSlots = RequestSlots()
    /// What ``requestFinished(route:reason:code:durationSeconds:)`` records
    /// into, for callers on no event loop of their own (one lock per call).
    private let sharedRecorder: Mutex<RequestRecorder>
    private let replicas = Mutex<[String: ReplicaGauges]>([:])
    private let servers = Mutex<[PoolServer: Gauge]>([:])
    private let rotationChanges = Mutex<[RotationKey: Counter]>([:])
    private let pins: Counter
    private let retries: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.sharedRecorder = Mutex(RequestRecorder(registeringIn: self.requestSlots))
        self.pins = registry.makeCounter(descriptor: Series.pins)
        self.retries = registry.makeCounter(descriptor: Series.retries)
    }

    /// The Prometheus text exposition (format 0.0.4) of every series: the
    /// registry's, then the request series.
    public func render() -> String {
        var text = self.registry.emitToString()
        RequestSeriesText.render(self.requestSlots.all, into: &text)
        return text
    }

    /// The same, as bytes (what `/metrics` writes).
    public func renderBytes() -> [UInt8] {
        Array(self.render().utf8)
    }

    // MARK: Request path

    /// A recorder for one event loop's finished requests (see ``RequestRecorder``).
    public func makeRequestRecorder() -> RequestRecorder {
        RequestRecorder(registeringIn: self.requestSlots)
    }

    /// One proxied request finished, recorded from any thread (the request
    /// path records through its loop's ``RequestRecorder`` instead).
    public func requestFinished(route: String, reason: String, code: Int, durationSeconds: Double) {
        self.sharedRecorder.withLock { recorder in
            recorder.record(route: route, reason: reason, code: code, durationSeconds: durationSeconds)
        }
    }

    /// The `/status` totals: every request recorded since start, by route and by reason.
    public func requestTotals() -> StatusDocument.Totals {
        var totals = StatusDocument.Totals(requests: 0, byRoute: [:], byReason: [:])
        for slot in self.requestSlots.all {
            let count = slot.read().buckets.reduce(0, +)
            totals.requests += count
            totals.byRoute[slot.key.route, default: 0] += count
            totals.byReason[slot.key.reason, default: 0] += count
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
