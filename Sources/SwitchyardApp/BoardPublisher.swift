import AdminServer
import HTTPProxy
import LagMonitor
import Synchronization
import SwitchyardCore
import SwitchyardLogging

/// Turns each lag round into the proxy's replica board (the one immutable
/// value the request path reads), the replica metrics and the dashboard's history
/// (the round's lag per replica, and the request totals at that moment).
public final class BoardPublisher: Sendable {
    private struct State {
        var runtime: ProxyRuntime?
        var lastRotation: [String: Bool] = [:]
    }

    private let state = Mutex(State())
    private let metrics: SwitchyardMetrics?
    private let history: DashboardHistory?

    init(metrics: SwitchyardMetrics? = nil, history: DashboardHistory? = nil) {
        self.metrics = metrics
        self.history = history
    }

    func attach(_ runtime: ProxyRuntime) {
        self.state.withLock { $0.runtime = runtime }
    }

    func publish(_ report: LagReport) {
        let (runtime, flips) = self.state.withLock { state -> (ProxyRuntime?, [(String, RotationCause?)]) in
            var flips: [(String, RotationCause?)] = []
            for replica in report.replicas where state.lastRotation[replica.name] != replica.inRotation {
                if state.lastRotation[replica.name] != nil || !replica.inRotation {
                    flips.append((replica.name, replica.inRotation ? nil : replica.cause))
                }
                state.lastRotation[replica.name] = replica.inRotation
            }
            return (state.runtime, flips)
        }
        runtime?.publish(board: BoardPublisher.board(from: report))
        let now = WallClock.nowMillis()
        for replica in report.replicas {
            self.metrics?.setReplica(name: replica.name, lagSeconds: replica.lagSeconds, lagBytes: replica.lagBytes, inRotation: replica.inRotation)
            self.history?.record(
                replica: replica.name, atMillis: now, lagSeconds: replica.lagSeconds, lagBytes: replica.lagBytes, inRotation: replica.inRotation)
        }
        for (name, cause) in flips {
            self.metrics?.rotationChanged(replica: name, cause: cause?.rawValue)
        }
        if let metrics = self.metrics, let history = self.history {
            // One sample per round: the dashboard draws request rates from these deltas.
            history.recordTotals(atMillis: now, metrics.requestTotals())
        }
    }

    public static func board(from report: LagReport) -> ReplicaStatusBoard {
        var entries: [String: ReplicaStatusBoard.Entry] = [:]
        for replica in report.replicas {
            entries[replica.name] = ReplicaStatusBoard.Entry(
                inRotation: replica.inRotation,
                cause: replica.cause?.rawValue,
                lagSeconds: replica.lagSeconds,
                lagBytes: replica.lagBytes,
                replayLSN: replica.replayLSN
            )
        }
        return ReplicaStatusBoard(entries: entries)
    }
}
