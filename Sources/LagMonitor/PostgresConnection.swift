import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

/// Why a poll failed. The message never contains the conninfo (it may hold a password).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case connect
        case query
        case timeout
    }

    public var kind: Kind
    public var message: String

    public var description: String { "\(self.kind.rawValue): \(self.message)" }
}

/// One persistent libpq connection driven through the non-blocking API, every
/// step bounded by a deadline the router enforces itself: libpq's own
/// `connect_timeout` has a 2 s floor and nothing in libpq bounds a query
/// against a stopped server. On any failure or deadline the connection is
/// dropped (`PQfinish`, which does not block) and re-made on the next call.
///
/// Not thread-safe: owned by one `DatabasePoller` queue.
final class PostgresConnection {
    private let conninfo: String
    private var connection: OpaquePointer?
    private var prepared: Set<String> = []

    init(conninfo: String) {
        self.conninfo = conninfo
    }

    deinit {
        if let connection = self.connection {
            PQfinish(connection)
        }
    }

    /// Runs a prepared statement (prepared once per connection) and returns its
    /// rows as text (nil for SQL NULL).
    func run(statement name: String, sql: String, deadline: UInt64) throws(PostgresError) -> [[String?]] {
        do throws(PostgresError) {
            let connection = try self.connected(deadline: deadline)
            if !self.prepared.contains(name) {
                guard PQsendPrepare(connection, name, sql, 0, nil) == 1 else {
                    throw PostgresError(kind: .query, message: self.errorMessage(connection))
                }
                _ = try self.collect(connection, deadline: deadline)
                self.prepared.insert(name)
            }
            guard PQsendQueryPrepared(connection, name, 0, nil, nil, nil, 0) == 1 else {
                throw PostgresError(kind: .query, message: self.errorMessage(connection))
            }
            return try self.collect(connection, deadline: deadline)
        } catch {
            self.reset()
            throw error
        }
    }

    func reset() {
        if let connection = self.connection {
            PQfinish(connection)
        }
        self.connection = nil
        self.prepared.removeAll()
    }

    private func connected(deadline: UInt64) throws(PostgresError) -> OpaquePointer {
        if let connection = self.connection, PQstatus(connection) == CONNECTION_OK {
            return connection
        }
        self.reset()
        guard let connection = PQconnectStart(self.conninfo) else {
            throw PostgresError(kind: .connect, message: "out of memory")
        }
        self.connection = connection
        guard PQstatus(connection) != CONNECTION_BAD else {
            throw PostgresError(kind: .connect, message: self.errorMessage(connection))
        }
        // After PQconnectStart, wait until the socket is writable, then follow PQconnectPoll.
        var status = PGRES_POLLING_WRITING
        while true {
            switch status {
            case PGRES_POLLING_OK:
                guard PQsetnonblocking(connection, 1) == 0 else {
                    throw PostgresError(kind: .connect, message: self.errorMessage(connection))
                }
                return connection
            case PGRES_POLLING_FAILED:
                throw PostgresError(kind: .connect, message: self.errorMessage(connection))
            case PGRES_POLLING_READING:
                try self.wait(connection, events: Int16(POLLIN), deadline: deadline, what: "connecting")
            default:
                try self.wait(connection, events: Int16(POLLOUT), deadline: deadline, what: "connecting")
            }
            status = PQconnectPoll(connection)
        }
    }

    /// Flushes the query, then reads every result until libpq says there are no more.
    private func collect(_ connection: OpaquePointer, deadline: UInt64) throws(PostgresError) -> [[String?]] {
        while true {
            let flushed = PQflush(connection)
            if flushed == 0 { break }
            if flushed < 0 { throw PostgresError(kind: .query, message: self.errorMessage(connection)) }
            try self.wait(connection, events: Int16(POLLOUT | POLLIN), deadline: deadline, what: "sending")
            if PQconsumeInput(connection) == 0 {
                throw PostgresError(kind: .query, message: self.errorMessage(connection))
            }
        }
        var rows: [[String?]] = []
        var failure: PostgresError? = nil
        while true {
            while PQisBusy(connection) == 1 {
                try self.wait(connection, events: Int16(POLLIN), deadline: deadline, what: "query")
                if PQconsumeInput(connection) == 0 {
                    throw PostgresError(kind: .query, message: self.errorMessage(connection))
                }
            }
            guard let result = PQgetResult(connection) else { break }
            let status = PQresultStatus(result)
            if status == PGRES_TUPLES_OK {
                let rowCount = PQntuples(result)
                let columnCount = PQnfields(result)
                for row in 0..<rowCount {
                    var values: [String?] = []
                    values.reserveCapacity(Int(columnCount))
                    for column in 0..<columnCount {
                        if PQgetisnull(result, row, column) == 1 {
                            values.append(nil)
                        } else if let text = PQgetvalue(result, row, column) {
                            values.append(String(decoding: UnsafeRawBufferPointer(start: text, count: Int(PQgetlength(result, row, column))), as: UTF8.self))
                        } else {
                            values.append(nil)
                        }
                    }
                    rows.append(values)
                }
            } else if status != PGRES_COMMAND_OK, failure == nil {
                let message = PQresultErrorMessage(result).map { PostgresConnection.text($0) } ?? "query failed"
                failure = PostgresError(kind: .query, message: message)
            }
            PQclear(result)
        }
        if let failure {
            throw failure
        }
        return rows
    }

    private func wait(_ connection: OpaquePointer, events: Int16, deadline: UInt64, what: String) throws(PostgresError) {
        let socket = PQsocket(connection)
        guard socket >= 0 else {
            throw PostgresError(kind: .connect, message: "no socket")
        }
        while true {
            let now = Monotonic.nanos()
            guard now < deadline else {
                throw PostgresError(kind: .timeout, message: "timeout (\(what))")
            }
            let remainingMillis = Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let ready = poll(&descriptor, 1, remainingMillis)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw PostgresError(kind: .connect, message: "poll failed: errno \(errno)")
            }
        }
    }

    private func errorMessage(_ connection: OpaquePointer) -> String {
        guard let message = PQerrorMessage(connection) else { return "unknown error" }
        return PostgresConnection.text(message)
    }

    static func text(_ pointer: UnsafePointer<CChar>) -> String {
        let raw = String(decoding: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)), as: UTF8.self)
        // libpq messages end in a newline and may span lines; keep one line.
        return raw.split(whereSeparator: { $0 == "\n" }).map { $0.trimmingCharacters() }.joined(separator: "; ")
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return String(result)
    }
}

/// Monotonic time in nanoseconds.
public enum Monotonic {
    public static func nanos() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
