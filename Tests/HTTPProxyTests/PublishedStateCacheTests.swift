import Logging
import SwitchyardCore
import SwitchyardLogging
import Testing

@testable import HTTPProxy

/// The request path reads the snapshot and replica board through a per-loop
/// cache that one integer load validates: it must hand back the same objects
/// while nothing is published, and the new ones as soon as something is.
@Suite("PublishedStateCache: the snapshot and board an event loop reads")
struct PublishedStateCacheTests {
    private static func runtime() -> ProxyRuntime {
        let configuration = SwitchyardConfiguration(
            listen: ServerAddress(host: "127.0.0.1", port: 0),
            primary: PrimaryConfiguration(
                database: "host=127.0.0.1", servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 9))]),
            replicas: [
                ReplicaConfiguration(
                    name: "replica-a", database: "host=127.0.0.1",
                    servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 10))])
            ]
        )
        return ProxyRuntime(
            configuration: configuration, pinKey: Array(repeating: 7, count: 32), decisionSink: MemoryLogSink(),
            logger: Logger(label: "switchyard.test"))
    }

    @Test("while nothing is published, the cached objects come back")
    func unchangedStateIsServedFromTheCache() {
        let runtime = Self.runtime()
        var cache = PublishedStateCache()
        let first = runtime.published(&cache)
        let second = runtime.published(&cache)
        #expect(first.snapshot === runtime.snapshot && first.board === runtime.replicaBoard)
        #expect(second.snapshot === first.snapshot && second.board === first.board)
    }

    @Test("a published board is read on the next request; the snapshot stays")
    func aPublishedBoardIsSeen() {
        let runtime = Self.runtime()
        var cache = PublishedStateCache()
        let before = runtime.published(&cache)
        let board = ReplicaStatusBoard(entries: ["replica-a": .init(inRotation: false, cause: "lag")])
        runtime.publish(board: board)
        let after = runtime.published(&cache)
        #expect(after.board === board)
        #expect(after.snapshot === before.snapshot)
        #expect(after.board.entry("replica-a").inRotation == false)
    }

    @Test("a reload is read on the next request; the board stays")
    func anAppliedConfigurationIsSeen() {
        let runtime = Self.runtime()
        var cache = PublishedStateCache()
        let before = runtime.published(&cache)
        var configuration = before.snapshot.configuration
        configuration.routing.readMethods = ["GET"]
        runtime.apply(configuration: configuration)
        let after = runtime.published(&cache)
        #expect(after.snapshot !== before.snapshot)
        #expect(after.snapshot.generation == before.snapshot.generation + 1)
        #expect(after.snapshot.configuration.routing.readMethods == ["GET"])
        #expect(after.board === before.board)
    }

    @Test("each loop's cache is its own: one that has not read yet loads the current state")
    func separateCachesLoadIndependently() {
        let runtime = Self.runtime()
        var first = PublishedStateCache()
        _ = runtime.published(&first)
        let board = ReplicaStatusBoard(entries: ["replica-a": .init(inRotation: true, lagSeconds: 0.5)])
        runtime.publish(board: board)
        var second = PublishedStateCache()
        #expect(runtime.published(&second).board === board)
        #expect(runtime.published(&first).board === board)
    }

    @Test("the request path's reading (no board) sees a published board and a reload on the next request")
    func theSnapshotReadingFollowsPublications() {
        let runtime = Self.runtime()
        var cache = PublishedStateCache()
        let first = runtime.publishedSnapshot(&cache)
        #expect(first.snapshot === runtime.snapshot)
        #expect(first.replicaEntries.map(\.lagSeconds) == [nil])

        runtime.publish(board: ReplicaStatusBoard(entries: ["replica-a": .init(inRotation: false, cause: "lag", lagSeconds: 7)]))
        let afterBoard = runtime.publishedSnapshot(&cache)
        #expect(afterBoard.snapshot === first.snapshot)
        #expect(afterBoard.replicaEntries.map(\.lagSeconds) == [7])

        var configuration = first.snapshot.configuration
        configuration.routing.readMethods = ["GET"]
        runtime.apply(configuration: configuration)
        let afterReload = runtime.publishedSnapshot(&cache)
        #expect(afterReload.snapshot !== first.snapshot)
        #expect(afterReload.snapshot.configuration.routing.readMethods == ["GET"])
        #expect(afterReload.replicaEntries.map(\.lagSeconds) == [7])
    }
}
