// The real-PostgreSQL test fixture (DESIGN.md, tests level 3).
//
//     @Test func replicaFollows() async throws {
//         try await withPostgresCluster(replicas: 1) { cluster in
//             let replica = cluster.replicas[0]
//             try await cluster.pauseReplay(replica)
//             let lsn = try await cluster.writeLoop(rows: 200)
//             #expect(try await cluster.replayLSN(replica).map { $0 < lsn } == true)
//             try await cluster.resumeReplay(replica)
//             try await cluster.waitForReplay(replica, atLeast: lsn)
//         }
//     }
//
// Always shut a cluster down: its servers are separate processes that outlive the test otherwise.
// `defer` cannot `await`, so use `withPostgresCluster`, which shuts down whether the body returns or
// throws. Holding a cluster across tests (e.g. in a suite), call `await cluster.shutdown()` yourself.
//
// Requirements: Linux, PostgreSQL 13+ server binaries (15 is what CI installs:
// `apt-get install -y postgresql libpq-dev`). When the test runs as root, the servers run as the
// `postgres` OS user. Missing binaries make `start` throw `PostgresFixtureError` with code
// `.serverBinariesMissing` and the install command; nothing is skipped silently.
//
// Environment: `SWITCHYARD_PG_BINDIR` overrides where initdb & co. are looked for. A cluster takes
// about 1.5–3 s to start on a loaded 2-core machine (see `PostgresCluster.startTimings`) and well
// under a second to shut down. Clusters are independent (own directory, own random ports outside the
// ephemeral range), so tests may run many in parallel.

/// Starts a ``PostgresCluster``, runs `body` with it and shuts the cluster down afterwards, also when
/// `body` throws (or the start itself failed half-way: ``PostgresCluster/start(replicas:options:)``
/// cleans up after itself).
public func withPostgresCluster<Result>(
    replicas: Int = 1,
    options: PostgresCluster.Options = PostgresCluster.Options(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (PostgresCluster) async throws -> Result
) async throws -> Result {
    let cluster = try await PostgresCluster.start(replicas: replicas, options: options)
    let result: Result
    do {
        result = try await body(cluster)
    } catch {
        await cluster.shutdown()
        throw error
    }
    await cluster.shutdown()
    return result
}
