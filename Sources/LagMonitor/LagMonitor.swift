import Logging
import Synchronization
import SwitchyardCore

/// Polls the primary and every replica through libpq (SPEC §6), keeps each
/// replica's rotation state machine, logs every rotation change, and hands
/// each round's result to `onUpdate` (the app publishes it to the proxy).
///
/// Each round polls the primary first, then every replica concurrently, each
/// poll bounded by `lag.query_timeout`; one slow database never delays the
/// others beyond that, and nothing here runs on an event loop.
public final class LagMonitor: Sendable {
    private struct Pollers {
        var primary: DatabasePoller
        var primaryConninfo: String
        var replicas: [String: (poller: DatabasePoller, conninfo: String)]
    }

    private struct State {
        var configuration: SwitchyardConfiguration
        var history = PrimaryPositionHistory()
        var machines: [String: RotationStateMachine] = [:]
        var latest: LagReport?
        var primaryProblem: String?
    }

    private let state: Mutex<State>
    private let pollers: Mutex<Pollers>
    private let logger: Logger
    private let onUpdate: @Sendable (LagReport) -> Void
    private let insertPositions: InsertPositionSource

    public init(configuration: SwitchyardConfiguration, logger: Logger, onUpdate: @escaping @Sendable (LagReport) -> Void = { _ in }) {
        self.state = Mutex(State(configuration: configuration))
        self.logger = logger
        self.onUpdate = onUpdate
        self.pollers = Mutex(
            Pollers(
                primary: DatabasePoller(name: "primary", conninfo: configuration.primary.database),
                primaryConninfo: configuration.primary.database,
                replicas: Dictionary(
                    configuration.replicas.map { ($0.name, (DatabasePoller(name: $0.name, conninfo: $0.database), $0.database)) },
                    uniquingKeysWith: { first, _ in first })
            ))
        self.insertPositions = InsertPositionSource(conninfo: configuration.primary.database, timeout: configuration.lag.queryTimeout)
    }

    /// Pin positions for `lsn` mode, from the primary.
    public var positionSource: any PrimaryPositionSource { self.insertPositions }

    /// The last round's result.
    public var latest: LagReport? {
        self.state.withLock { $0.latest }
    }

    /// Polls every interval (with ±10% jitter so several routers do not poll in
    /// lockstep) until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            _ = await self.pollOnce()
            let interval = self.state.withLock { $0.configuration.lag.pollInterval }
            let jitter = Double.random(in: 0.9...1.1)
            let next = started + interval * jitter
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }

    /// One round: the primary, then every replica concurrently.
    @discardableResult
    public func pollOnce() async -> LagReport {
        let configuration = self.state.withLock { $0.configuration }
        let timeout = configuration.lag.queryTimeout
        let (primaryPoller, replicaPollers) = self.pollers.withLock { pollers in
            (pollers.primary, configuration.replicas.compactMap { pollers.replicas[$0.name]?.poller })
        }
        let roundStart = Monotonic.nanos()
        let primaryResult = await primaryPoller.run(statement: PollQueries.primaryName, sql: PollQueries.primary, timeout: timeout)
        let primaryDone = Monotonic.nanos()
        var primary = DatabaseStatus(name: "primary", role: .primary, reachable: false, inRotation: true, pollSeconds: Double(primaryDone - roundStart) / 1e9)
        switch primaryResult {
        case .success(let rows):
            let row = rows.first ?? []
            primary.reachable = true
            primary.inRecovery = PollQueries.bool(row.first ?? nil)
            primary.currentLSN = (row.count > 1 ? row[1] : nil).flatMap { LSN(parsing: $0) }
        case .failure(let error):
            primary.error = error.description
        }

        let results = await withTaskGroup(of: (Int, Result<[[String?]], PostgresError>, Double).self) { group in
            for (index, poller) in replicaPollers.enumerated() {
                group.addTask {
                    let start = Monotonic.nanos()
                    let result = await poller.run(statement: PollQueries.replicaName, sql: PollQueries.replica, timeout: timeout)
                    return (index, result, Double(Monotonic.nanos() - start) / 1e9)
                }
            }
            var collected: [(Int, Result<[[String?]], PostgresError>, Double)] = []
            for await item in group {
                collected.append(item)
            }
            return collected.sorted { $0.0 < $1.0 }
        }
        let now = Monotonic.nanos()

        let (report, transitions, primaryChange) = self.state.withLock { state -> (LagReport, [(String, RotationStateMachine.Transition, DatabaseStatus)], String??) in
            if let position = primary.currentLSN {
                state.history.record(position, atNanos: primaryDone)
            }
            var replicas: [DatabaseStatus] = []
            var transitions: [(String, RotationStateMachine.Transition, DatabaseStatus)] = []
            for (index, result, seconds) in results {
                guard index < configuration.replicas.count else { continue }
                let name = configuration.replicas[index].name
                var status = DatabaseStatus(name: name, role: .replica, reachable: false, inRotation: true, pollSeconds: seconds)
                let observation: ReplicaObservation
                switch result {
                case .success(let rows):
                    let row = rows.first ?? []
                    func column(_ i: Int) -> String? { i < row.count ? row[i] : nil }
                    status.reachable = true
                    status.inRecovery = PollQueries.bool(column(0))
                    status.receiveLSN = column(1).flatMap { LSN(parsing: $0) }
                    status.replayLSN = column(2).flatMap { LSN(parsing: $0) }
                    let replayDelay = column(3).flatMap { Double($0) }
                    status.replayPaused = PollQueries.bool(column(4))
                    status.receiverStatus = column(5)
                    if let current = primary.currentLSN, let replay = status.replayLSN {
                        status.lagBytes = LSN.bytesBehind(current, replay)
                    }
                    if primary.currentLSN != nil, let replay = status.replayLSN {
                        status.lagSeconds = state.history.lagSeconds(replayed: replay, atNanos: now)
                    } else if status.receiverStatus == "streaming", let replayDelay {
                        status.lagSeconds = max(0, replayDelay)
                    }
                    observation = ReplicaObservation(
                        reachable: true, inRecovery: status.inRecovery ?? false, receiveLSN: status.receiveLSN,
                        replayLSN: status.replayLSN, replayPaused: status.replayPaused, receiverStatus: status.receiverStatus,
                        lagSeconds: status.lagSeconds, lagBytes: status.lagBytes)
                case .failure(let error):
                    status.error = error.description
                    observation = .unreachable
                }
                var machine = state.machines[name] ?? RotationStateMachine()
                if let transition = machine.observe(observation, limits: configuration.lag) {
                    transitions.append((name, transition, status))
                }
                state.machines[name] = machine
                status.inRotation = machine.inRotation
                status.cause = machine.cause
                replicas.append(status)
            }
            state.history.prune(keepingAfter: replicas.compactMap(\.replayLSN).min())
            let report = LagReport(primary: primary, replicas: replicas, roundSeconds: Double(now - roundStart) / 1e9)
            state.latest = report
            let problem: String? =
                !primary.reachable ? "primary unreachable" : (primary.inRecovery == true ? "configured primary is in recovery (not a primary)" : nil)
            var change: String?? = nil
            if problem != state.primaryProblem {
                change = .some(problem)
                state.primaryProblem = problem
            }
            return (report, transitions, change)
        }

        for (name, transition, status) in transitions {
            self.log(transition, replica: name, status: status)
        }
        if let change = primaryChange {
            if let problem = change {
                self.logger.error(
                    "\(problem)", metadata: ["error": "\(primary.error ?? "in recovery")", "writes": "still proxied to the primary pool"])
            } else {
                self.logger.notice("primary reachable again", metadata: ["current_lsn": "\(primary.currentLSN?.description ?? "null")"])
            }
        }
        self.onUpdate(report)
        return report
    }

    private func log(_ transition: RotationStateMachine.Transition, replica: String, status: DatabaseStatus) {
        var metadata: Logger.Metadata = ["replica": "\(replica)"]
        // Unknown figures are left out of the line rather than written as text.
        if let lag = status.lagSeconds {
            metadata["lag_s"] = .stringConvertible((lag * 1000).rounded() / 1000)
        }
        if let bytes = status.lagBytes {
            metadata["lag_bytes"] = .stringConvertible(bytes)
        }
        switch transition {
        case .wentOut(let cause):
            metadata["cause"] = "\(cause.rawValue)"
            if let error = status.error {
                metadata["error"] = "\(error)"
            }
            self.logger.warning("replica out of rotation", metadata: metadata)
        case .cameBack:
            self.logger.notice("replica back in rotation", metadata: metadata)
        }
    }

    /// Operator drain (`cause: drained`); false for an unknown replica.
    public func drain(_ name: String) -> Bool {
        let result: (known: Bool, transition: RotationStateMachine.Transition?, report: LagReport?) = self.state.withLock { state in
            guard state.configuration.replicas.contains(where: { $0.name == name }) else { return (false, nil, nil) }
            var machine = state.machines[name] ?? RotationStateMachine()
            let transition = machine.drain()
            state.machines[name] = machine
            state.latest = state.latest.map { Self.refreshed($0, machines: state.machines) }
            return (true, transition, state.latest)
        }
        if let transition = result.transition {
            self.log(transition, replica: name, status: DatabaseStatus(name: name, role: .replica, reachable: true, inRotation: false, cause: .drained))
        }
        if let report = result.report {
            self.onUpdate(report)
        }
        return result.known
    }

    /// Ends a drain: the replica returns at its next good poll.
    public func undrain(_ name: String) -> Bool {
        self.state.withLock { state in
            guard state.configuration.replicas.contains(where: { $0.name == name }) else { return false }
            var machine = state.machines[name] ?? RotationStateMachine()
            machine.undrain()
            state.machines[name] = machine
            return true
        }
    }

    /// Applies reloaded thresholds and databases; state of unchanged replicas is kept.
    public func apply(configuration: SwitchyardConfiguration) {
        self.state.withLock { state in
            state.configuration = configuration
            let names = Set(configuration.replicas.map(\.name))
            state.machines = state.machines.filter { names.contains($0.key) }
        }
        self.insertPositions.setTimeout(configuration.lag.queryTimeout)
        self.pollers.withLock { pollers in
            if pollers.primaryConninfo != configuration.primary.database {
                pollers.primary = DatabasePoller(name: "primary", conninfo: configuration.primary.database)
                pollers.primaryConninfo = configuration.primary.database
            }
            var next: [String: (poller: DatabasePoller, conninfo: String)] = [:]
            for replica in configuration.replicas {
                if let existing = pollers.replicas[replica.name], existing.conninfo == replica.database {
                    next[replica.name] = existing
                } else {
                    next[replica.name] = (DatabasePoller(name: replica.name, conninfo: replica.database), replica.database)
                }
            }
            pollers.replicas = next
        }
    }

    private static func refreshed(_ report: LagReport, machines: [String: RotationStateMachine]) -> LagReport {
        var report = report
        for index in report.replicas.indices {
            if let machine = machines[report.replicas[index].name] {
                report.replicas[index].inRotation = machine.inRotation
                report.replicas[index].cause = machine.cause
            }
        }
        return report
    }
}
