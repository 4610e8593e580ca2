import LagMonitor
import Logging
import Synchronization
import SwitchyardCore
import SwitchyardLogging
import SwitchyardTestSupport

/// A lag monitor polling a real cluster in the background, with every round
/// and every log line kept for the test to wait on.
final class MonitorHarness: Sendable {
    let monitor: LagMonitor
    let logs: MemoryLogSink
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let box: ReportBox

    init(configuration: SwitchyardConfiguration, onReport: @escaping @Sendable (LagReport) -> Void = { _ in }) {
        let logs = MemoryLogSink()
        self.logs = logs
        let logger = Logger(label: "switchyard.test.monitor") { label in
            StructuredLogHandler(label: label, sink: logs, format: .json, level: .info)
        }
        let box = ReportBox()
        self.monitor = LagMonitor(configuration: configuration, logger: logger) { report in
            box.append(report)
            onReport(report)
        }
        self.box = box
    }

    var allReports: [LagReport] { self.box.all }
    var latest: LagReport? { self.box.all.last }

    func start() {
        let monitor = self.monitor
        self.task.withLock { $0 = Task { await monitor.run() } }
    }

    func stop() {
        self.task.withLock { $0?.cancel() }
    }

    func replica(_ name: String) -> DatabaseStatus? {
        self.latest?.replicas.first { $0.name == name }
    }

    /// Rotation log lines, parsed.
    var rotationLines: [[String: String]] {
        self.logs.lines.map(FlatJSON.parse).filter { ($0["msg"] ?? "").contains("rotation") }
    }

    static func configuration(_ cluster: PostgresCluster, lag: LagConfiguration = MonitorHarness.fastLag) -> SwitchyardConfiguration {
        SwitchyardConfiguration(
            listen: ServerAddress(host: "127.0.0.1", port: 0),
            primary: PrimaryConfiguration(database: cluster.primary.conninfo, servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 1))]),
            replicas: cluster.replicas.enumerated().map { index, node in
                ReplicaConfiguration(
                    name: "replica-\(index == 0 ? "a" : "b")", database: node.conninfo,
                    servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 2 + index))])
            },
            lag: lag
        )
    }

    static let fastLag = LagConfiguration(
        pollInterval: .milliseconds(200), maxLag: .seconds(2), maxLagBytes: 0, readmitBelow: .seconds(1), readmitAfter: 3,
        queryTimeout: .milliseconds(500), unreachableAfter: 2)
}

final class ReportBox: Sendable {
    private let reports = Mutex<[LagReport]>([])

    func append(_ report: LagReport) {
        self.reports.withLock { reports in
            reports.append(report)
            if reports.count > 2000 { reports.removeFirst(1000) }
        }
    }

    var all: [LagReport] { self.reports.withLock { $0 } }
}

