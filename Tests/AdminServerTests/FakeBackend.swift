import AdminServer
import Synchronization

/// An ``AdminBackend`` with settable state that records drain calls.
final class FakeBackend: AdminBackend {
    struct State {
        var document: StatusDocument
        var shuttingDown = false
        var drained: Set<String> = []
        var calls: [String] = []
        var decisions: [DecisionSummary] = []
        var lag: [ReplicaLagSeries] = []
        var totals: RequestTotalsSeries = .empty
    }

    let state: Mutex<State>

    init(document: StatusDocument = FakeBackend.sampleDocument) {
        self.state = Mutex(State(document: document))
    }

    static let sampleDocument = StatusDocument(
        version: "1.0.0",
        uptimeSeconds: 812.4,
        primary: .init(
            reachable: true, inRecovery: false, currentLSN: "0/3000148",
            servers: [.init(address: "127.0.0.1:8001", up: true, active: 3, failures: 0)]),
        replicas: [
            .init(
                name: "replica-a", inRotation: false, cause: "lag", lagSeconds: 6.2, lagBytes: 1_048_576,
                replayLSN: "0/2F00000",
                servers: [.init(address: "127.0.0.1:8011", up: true, active: 0, failures: 0)]),
            .init(
                name: "replica-b", inRotation: true, cause: nil, lagSeconds: 0.012, lagBytes: 0, replayLSN: "0/3000148",
                servers: [
                    .init(address: "127.0.0.1:8021", up: true, active: 1, failures: 0),
                    .init(address: "127.0.0.1:8022", up: false, active: 0, failures: 2),
                ]),
        ],
        totals: .init(
            requests: 18211, byRoute: ["primary": 2011, "replica": 16200],
            byReason: ["read": 15990, "write": 1900, "pinned": 101, "pin-caught-up": 210, "no-replica": 10]))

    var replicaNames: [String] {
        self.state.withLock { $0.document.replicas.map(\.name) }
    }

    func status() -> StatusDocument {
        self.state.withLock { $0.document }
    }

    func drain(replica: String) -> Bool {
        self.state.withLock { state in
            state.calls.append("drain \(replica)")
            guard state.document.replicas.contains(where: { $0.name == replica }) else { return false }
            state.drained.insert(replica)
            return true
        }
    }

    func undrain(replica: String) -> Bool {
        self.state.withLock { state in
            state.calls.append("undrain \(replica)")
            guard state.document.replicas.contains(where: { $0.name == replica }) else { return false }
            state.drained.remove(replica)
            return true
        }
    }

    var isShuttingDown: Bool {
        self.state.withLock { $0.shuttingDown }
    }

    func recentDecisions() -> [DecisionSummary] {
        self.state.withLock { $0.decisions }
    }

    func lagHistory() -> [ReplicaLagSeries] {
        self.state.withLock { $0.lag }
    }

    func requestTotalsHistory() -> RequestTotalsSeries {
        self.state.withLock { $0.totals }
    }
}
