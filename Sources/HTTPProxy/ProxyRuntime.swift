import Atomics
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardLogging

/// Observes what the request path does (metrics, dashboards). All methods are
/// called on event loops and must not block.
public protocol ProxyObserver: Sendable {
    /// Once per finished request, on its event loop, after the decision line. The
    /// record is handed over (its strings move on without being copied).
    func requestFinished(_ record: consuming DecisionRecord)
    func upstreamRetried(server: UpstreamServerState)
    func serverHealthChanged(server: UpstreamServerState, up: Bool)
}

/// The state shared by every event loop: the current snapshot and replica
/// board (each one atomic load to read), the log sink and the observer.
public final class ProxyRuntime: Sendable {
    private let snapshotReference: ManagedAtomic<ProxySnapshot>
    private let boardReference: ManagedAtomic<ReplicaStatusBoard>
    private let drainingFlag = ManagedAtomic<Bool>(false)
    private let generationCounter = ManagedAtomic<Int>(0)
    public let decisionSink: any LogLineSink
    public let logger: Logger
    public let observer: (any ProxyObserver)?
    public let positionSource: (any PrimaryPositionSource)?
    private let pinKey: [UInt8]

    public init(
        configuration: SwitchyardConfiguration,
        pinKey: [UInt8],
        decisionSink: any LogLineSink,
        logger: Logger,
        observer: (any ProxyObserver)? = nil,
        positionSource: (any PrimaryPositionSource)? = nil
    ) {
        self.pinKey = pinKey
        self.snapshotReference = ManagedAtomic(ProxySnapshot(generation: 0, configuration: configuration, pinKey: pinKey, previous: nil))
        self.boardReference = ManagedAtomic(ReplicaStatusBoard.allInRotation(configuration.replicas.map(\.name)))
        self.decisionSink = decisionSink
        self.logger = logger
        self.observer = observer
        self.positionSource = positionSource
    }

    public var snapshot: ProxySnapshot {
        self.snapshotReference.load(ordering: .acquiring)
    }

    public var replicaBoard: ReplicaStatusBoard {
        self.boardReference.load(ordering: .acquiring)
    }

    /// Applies a new configuration to new requests; requests in flight finish with the old one.
    public func apply(configuration: SwitchyardConfiguration) {
        let generation = self.generationCounter.wrappingIncrementThenLoad(ordering: .relaxed)
        let next = ProxySnapshot(generation: generation, configuration: configuration, pinKey: self.pinKey, previous: self.snapshot)
        self.snapshotReference.store(next, ordering: .releasing)
    }

    public func publish(board: ReplicaStatusBoard) {
        self.boardReference.store(board, ordering: .releasing)
    }

    public var isDraining: Bool {
        self.drainingFlag.load(ordering: .relaxed)
    }

    public func beginDraining() {
        self.drainingFlag.store(true, ordering: .relaxed)
    }
}
