import Atomics
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardLogging
import Synchronization

/// Observes what the request path does (metrics, dashboards). All methods are
/// called on event loops and must not block. A class: the runtime's observer
/// is then one reference (an opaque existential was copied into a box and
/// destroyed again at each call on the request path).
public protocol ProxyObserver: AnyObject, Sendable {
    /// What one event loop reports its finished requests to: asked once per
    /// loop, when the proxy starts, and called on that loop only (so it can
    /// keep what it records without a lock).
    func loopObserver() -> any LoopObserver
    func upstreamRetried(server: UpstreamServerState)
    func serverHealthChanged(server: UpstreamServerState, up: Bool)
}

/// One event loop's observer (see ``ProxyObserver/loopObserver()``).
public protocol LoopObserver: AnyObject {
    /// Once per finished request, after the decision line. The record is
    /// handed over (its strings move on without being copied).
    func requestFinished(_ record: consuming DecisionRecord)
}

/// The state shared by every event loop: the current snapshot and replica
/// board, the log sink and the observer.
///
/// The request path reads the snapshot and board through a
/// ``PublishedStateCache`` per event loop: one integer load tells it whether
/// either changed since its last request. Loading an atomic reference
/// itself costs more (swift-atomics counts the reader in with compare-and-swap
/// loops before it can retain the object), and both change only on a reload or
/// a lag poll round.
public final class ProxyRuntime: Sendable {
    private let snapshotReference: ManagedAtomic<ProxySnapshot>
    private let boardReference: ManagedAtomic<ReplicaStatusBoard>
    /// Bumped after every store to either reference. (`Synchronization.Atomic`
    /// rather than a `ManagedAtomic`: stored inline, one pointer less to follow
    /// per request.)
    private let publishedVersion = Atomic<Int>(0)
    private let drainingFlag = Atomic<Bool>(false)
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
        self.publishedVersion.wrappingAdd(1, ordering: .releasing)
    }

    public func publish(board: ReplicaStatusBoard) {
        self.boardReference.store(board, ordering: .releasing)
        self.publishedVersion.wrappingAdd(1, ordering: .releasing)
    }

    /// The current snapshot and board, and the board's entries in the
    /// snapshot's replica order (looked up by name once per publication, not
    /// per request), from `cache` unless either was published since it was
    /// filled.
    ///
    /// A version read here is bumped only after its store, so objects loaded
    /// after reading it are at least as new as that version; when the version
    /// is still the cached one, no publication has finished since, and the
    /// cached objects are what a load would have returned just before the
    /// publication in progress (if any).
    package func published(
        _ cache: inout PublishedStateCache
    ) -> (snapshot: ProxySnapshot, board: ReplicaStatusBoard, replicaEntries: [ReplicaStatusBoard.Entry]) {
        let version = self.publishedVersion.load(ordering: .acquiring)
        if version == cache.version, let snapshot = cache.snapshot, let board = cache.board {
            return (snapshot, board, cache.replicaEntries)
        }
        let snapshot = self.snapshot
        let board = self.replicaBoard
        cache = PublishedStateCache(version: version, snapshot: snapshot, board: board)
        return (snapshot, board, cache.replicaEntries)
    }

    /// `published(_:)` without the board, which the request path does not
    /// read (handed out, it cost a retain and a release per request).
    package func publishedSnapshot(
        _ cache: inout PublishedStateCache
    ) -> (snapshot: ProxySnapshot, replicaEntries: [ReplicaStatusBoard.Entry]) {
        if self.publishedVersion.load(ordering: .acquiring) == cache.version, let snapshot = cache.snapshot {
            return (snapshot, cache.replicaEntries)
        }
        let (snapshot, _, replicaEntries) = self.published(&cache)
        return (snapshot, replicaEntries)
    }

    public var isDraining: Bool {
        self.drainingFlag.load(ordering: .relaxed)
    }

    public func beginDraining() {
        self.drainingFlag.store(true, ordering: .relaxed)
    }
}

/// One event loop's copy of what ``ProxyRuntime`` last published (see
/// ``ProxyRuntime/published(_:)``).
package struct PublishedStateCache {
    fileprivate var version = -1
    fileprivate var snapshot: ProxySnapshot?
    fileprivate var board: ReplicaStatusBoard?
    /// `board.entry(replica.name)` for each of `snapshot`'s replicas, in order.
    fileprivate var replicaEntries: [ReplicaStatusBoard.Entry] = []

    package init() {}

    fileprivate init(version: Int, snapshot: ProxySnapshot, board: ReplicaStatusBoard) {
        self.version = version
        self.snapshot = snapshot
        self.board = board
        self.replicaEntries = snapshot.configuration.replicas.map { board.entry($0.name) }
    }
}
