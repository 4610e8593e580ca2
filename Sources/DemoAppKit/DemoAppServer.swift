import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The demo app server: a small HTTP app backed by PostgreSQL, shaped like a
/// real web stack's app server. Its database comes from its configuration
/// (twelve-factor style). Endpoints:
///
/// - `POST /items` (body: the item's name) → 201 `{"id":N,"name":...}`; with
///   `reportLSN`, the response carries `X-Switchyard-LSN` read after the commit.
/// - `GET /items/N` → 200 `{"id":N,"name":...}` or 404.
/// - `GET /items` → the last 20 items.
/// - `GET /healthz` → 200 when the database answers, 503 otherwise.
///
/// Every response says which server and which database role answered:
/// `X-App-Server: NAME`, `X-DB-Role: primary|replica`.
public final class DemoAppServer: Sendable {
    public struct Configuration: Sendable {
        public var name: String
        public var host: String
        public var port: Int
        public var database: String
        public var reportLSN: Bool

        public init(name: String, host: String = "127.0.0.1", port: Int = 0, database: String, reportLSN: Bool = false) {
            self.name = name
            self.host = host
            self.port = port
            self.database = database
            self.reportLSN = reportLSN
        }
    }

    public let configuration: Configuration
    private let database: DemoDatabase
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let logger: Logger

    public var port: Int { self.channel.localAddress?.port ?? 0 }

    private init(configuration: Configuration, database: DemoDatabase, group: MultiThreadedEventLoopGroup, channel: any Channel, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.group = group
        self.channel = channel
        self.logger = logger
    }

    public static func start(_ configuration: Configuration, logger: Logger = Logger(label: "switchyard.demo-app")) async throws -> DemoAppServer {
        let database = DemoDatabase(conninfo: configuration.database)
        // The schema is the migrations' job; creating it here too keeps tests self-contained.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(DemoAppHandler(configuration: configuration, database: database))
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        return DemoAppServer(configuration: configuration, database: database, group: group, channel: channel, logger: logger)
    }

    public func stop() async {
        try? await self.channel.close()
        try? await self.group.shutdownGracefully()
        await self.database.shutdown()
    }
}

/// One connection of the demo app. Requests are small: bodies are aggregated (up to 64 KiB).
final class DemoAppHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let configuration: DemoAppServer.Configuration
    private let database: DemoDatabase
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(configuration: DemoAppServer.Configuration, database: DemoDatabase) {
        self.configuration = configuration
        self.database = database
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body.clear()
        case .body(var buffer):
            if self.body.readableBytes + buffer.readableBytes <= 64 * 1024 {
                self.body.writeBuffer(&buffer)
            }
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let name = self.body.readString(length: self.body.readableBytes) ?? ""
            self.handle(head, body: name, on: context.eventLoop).assumeIsolated().whenComplete { result in
                let (status, json, extra) = (try? result.get()) ?? (.internalServerError, "{\"error\":\"database\"}", [])
                self.respond(context: context, head: head, status: status, json: json, extra: extra)
            }
        }
    }

    typealias Answer = (HTTPResponseStatus, String, [(String, String)])

    private func handle(_ head: HTTPRequestHead, body: String, on loop: any EventLoop) -> EventLoopFuture<Answer> {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let parts = path.split(separator: "/")
        let reportLSN = self.configuration.reportLSN
        let database = self.database
        switch (head.method, parts.count, parts.first) {
        case (.GET, 1, "healthz"):
            return database.query("SELECT 1", on: loop).map { _ in (.ok, "{\"ok\":true}", []) }
                .recover { _ in (.serviceUnavailable, "{\"ok\":false}", []) }
        case (.POST, 1, "items"):
            let item = body.isEmpty ? "item" : body
            let insert = database.query("INSERT INTO items (name) VALUES ($1) RETURNING id", [item], on: loop)
            return insert.flatMap { rows -> EventLoopFuture<Answer> in
                let id = rows.first?.first.flatMap { $0 } ?? "0"
                let json = "{\"id\":\(id),\"name\":\(Self.quote(item))}"
                guard reportLSN else { return loop.makeSucceededFuture((.created, json, [])) }
                return database.query("SELECT pg_current_wal_insert_lsn()", on: loop).map { lsnRows in
                    let lsn = lsnRows.first?.first.flatMap { $0 } ?? ""
                    return (.created, json, lsn.isEmpty ? [] : [("X-Switchyard-LSN", lsn)])
                }
            }
        case (.GET, 2, "items"):
            guard let id = Int(parts[1]) else { return loop.makeSucceededFuture((.notFound, "{\"error\":\"not found\"}", [])) }
            return database.query("SELECT id, name FROM items WHERE id = $1", [String(id)], on: loop).map { rows in
                guard let row = rows.first, row.count == 2 else { return (.notFound, "{\"error\":\"not found\"}", []) }
                return (.ok, "{\"id\":\(row[0] ?? "0"),\"name\":\(Self.quote(row[1] ?? ""))}", [])
            }
        case (.GET, 1, "items"):
            return database.query("SELECT id, name FROM items ORDER BY id DESC LIMIT 20", on: loop).map { rows in
                let items = rows.map { "{\"id\":\($0.first.flatMap { $0 } ?? "0"),\"name\":\(Self.quote(($0.count > 1 ? $0[1] : nil) ?? ""))}" }
                return (.ok, "[" + items.joined(separator: ",") + "]", [])
            }
        default:
            return loop.makeSucceededFuture((.notFound, "{\"error\":\"no such endpoint\"}", []))
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, json: String, extra: [(String, String)]) {
        self.role(on: context.eventLoop).assumeIsolated().whenComplete { role in
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(json.utf8.count))
            headers.add(name: "x-app-server", value: self.configuration.name)
            headers.add(name: "x-db-role", value: (try? role.get()) ?? "unknown")
            for (name, value) in extra {
                headers.add(name: name, value: value)
            }
            if !head.isKeepAlive {
                headers.add(name: "connection", value: "close")
            }
            var buffer = context.channel.allocator.buffer(capacity: json.utf8.count)
            buffer.writeString(json)
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            let keepAlive = head.isKeepAlive
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }

    private var cachedRole: String?

    /// `primary` or `replica`, asked once per connection.
    private func role(on loop: any EventLoop) -> EventLoopFuture<String> {
        if let role = self.cachedRole { return loop.makeSucceededFuture(role) }
        return self.database.query("SELECT pg_is_in_recovery()", on: loop).assumeIsolated().map { rows in
            let role = rows.first?.first.flatMap { $0 } == "t" ? "replica" : "primary"
            self.cachedRole = role
            return role
        }.nonisolated()
    }

    static func quote(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20: escaped += " "
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }
}
