import CLibPQ
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The demo app's database access: a few blocking libpq connections used from
/// a `NIOThreadPool` (never from an event loop), re-made after a failure —
/// what a typical app server's connection pool does.
public final class DemoDatabase: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    private final class Connection: @unchecked Sendable {
        // @unchecked: used by one thread at a time (checked out of the pool).
        var handle: OpaquePointer?
        init(_ handle: OpaquePointer?) { self.handle = handle }
        deinit { if let handle = self.handle { PQfinish(handle) } }
    }

    private let conninfo: String
    private let idle = Mutex<[Connection]>([])
    private let threadPool: NIOThreadPool

    public init(conninfo: String, threads: Int = 4) {
        self.conninfo = conninfo
        self.threadPool = NIOThreadPool(numberOfThreads: threads)
        self.threadPool.start()
    }

    public func shutdown() async {
        try? await self.threadPool.shutdownGracefully()
        self.idle.withLock { $0.removeAll() }
    }

    /// Runs one statement with text parameters; returns rows of text (nil = NULL).
    public func query(_ sql: String, _ parameters: [String] = [], on eventLoop: any EventLoop) -> EventLoopFuture<[[String?]]> {
        self.threadPool.runIfActive(eventLoop: eventLoop) {
            try self.blockingQuery(sql, parameters)
        }
    }

    private func blockingQuery(_ sql: String, _ parameters: [String]) throws -> [[String?]] {
        let connection = try self.checkOut()
        do {
            let rows = try Self.execute(connection, sql, parameters)
            self.idle.withLock { $0.append(connection) }
            return rows
        } catch {
            // Drop a connection that failed; the next call makes a new one.
            if let handle = connection.handle, PQstatus(handle) != CONNECTION_OK {
                PQfinish(handle)
                connection.handle = nil
            } else {
                self.idle.withLock { $0.append(connection) }
            }
            throw error
        }
    }

    private func checkOut() throws -> Connection {
        if let connection = self.idle.withLock({ $0.popLast() }), let handle = connection.handle, PQstatus(handle) == CONNECTION_OK {
            return connection
        }
        guard let handle = PQconnectdb(self.conninfo) else { throw Failure(description: "out of memory") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.text(PQerrorMessage(handle))
            PQfinish(handle)
            throw Failure(description: message)
        }
        return Connection(handle)
    }

    private static func execute(_ connection: Connection, _ sql: String, _ parameters: [String]) throws -> [[String?]] {
        guard let handle = connection.handle else { throw Failure(description: "no connection") }
        let cStrings = parameters.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
        guard let result = PQexecParams(handle, sql, Int32(parameters.count), nil, &pointers, nil, nil, 0) else {
            throw Failure(description: Self.text(PQerrorMessage(handle)))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw Failure(description: Self.text(PQresultErrorMessage(result)))
        }
        var rows: [[String?]] = []
        for row in 0..<PQntuples(result) {
            var values: [String?] = []
            for column in 0..<PQnfields(result) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(Self.text(PQgetvalue(result, row, column)))
                }
            }
            rows.append(values)
        }
        return rows
    }

    private static func text(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        let raw = String(decoding: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)), as: UTF8.self)
        return raw.split(separator: "\n").joined(separator: "; ")
    }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        self.text(UnsafePointer(pointer))
    }
}
