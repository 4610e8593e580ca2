import HTTPProxy
import LagMonitor
import Synchronization
import SwitchyardCore

/// Turns each lag round into the proxy's replica board (the one immutable
/// value the request path reads).
final class BoardPublisher: Sendable {
    private let runtime = Mutex<ProxyRuntime?>(nil)

    func attach(_ runtime: ProxyRuntime) {
        self.runtime.withLock { $0 = runtime }
    }

    func publish(_ report: LagReport) {
        guard let runtime = self.runtime.withLock({ $0 }) else { return }
        runtime.publish(board: BoardPublisher.board(from: report))
    }

    static func board(from report: LagReport) -> ReplicaStatusBoard {
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
