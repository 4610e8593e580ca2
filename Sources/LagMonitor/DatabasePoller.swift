import Dispatch
import SwitchyardCore

/// One database's poll connection on its own serial queue: libpq never runs
/// on an event loop or the concurrency pool, and a hung database only ever
/// holds its own queue (each call is bounded by its deadline).
final class DatabasePoller: @unchecked Sendable {
    // @unchecked: `connection` is only touched on `queue`.
    let name: String
    private let queue: DispatchQueue
    private let connection: PostgresConnection

    init(name: String, conninfo: String) {
        self.name = name
        self.queue = DispatchQueue(label: "switchyard.poller.\(name)")
        self.connection = PostgresConnection(conninfo: conninfo)
    }

    /// Runs a prepared statement; `timeout` bounds connect + query together.
    func run(statement: String, sql: String, timeout: Duration) async -> Result<[[String?]], PostgresError> {
        let deadline = Monotonic.nanos() + UInt64(max(0, timeout.totalNanoseconds))
        return await withCheckedContinuation { continuation in
            self.queue.async {
                do throws(PostgresError) {
                    let rows = try self.connection.run(statement: statement, sql: sql, deadline: deadline)
                    continuation.resume(returning: .success(rows))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
    }

    /// Callback form, for callers that are not async (the pin position source).
    func run(statement: String, sql: String, timeout: Duration, completion: @escaping @Sendable (Result<[[String?]], PostgresError>) -> Void) {
        let deadline = Monotonic.nanos() + UInt64(max(0, timeout.totalNanoseconds))
        self.queue.async {
            do throws(PostgresError) {
                completion(.success(try self.connection.run(statement: statement, sql: sql, deadline: deadline)))
            } catch {
                completion(.failure(error))
            }
        }
    }

    func close() {
        self.queue.sync { self.connection.reset() }
    }
}
