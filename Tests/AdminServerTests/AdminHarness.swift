import AdminServer
import Logging
import SwitchyardTestSupport

/// An ``AdminServer`` on 127.0.0.1, port 0, in front of a ``FakeBackend``.
struct AdminHarness {
    let server: AdminServer
    let backend: FakeBackend
    let metrics: SwitchyardMetrics
    let port: Int

    static func start(
        token: String? = nil,
        backend: FakeBackend = FakeBackend(),
        metrics: SwitchyardMetrics = SwitchyardMetrics(),
        configure: (inout AdminServer.Configuration) -> Void = { _ in }
    ) async throws -> AdminHarness {
        var configuration = AdminServer.Configuration(token: token)
        configure(&configuration)
        var logger = Logger(label: "switchyard.admin.test")
        logger.logLevel = .critical
        let server = AdminServer(backend: backend, metrics: metrics, configuration: configuration, logger: logger)
        let port = try await server.start(host: "127.0.0.1", port: 0)
        return AdminHarness(server: server, backend: backend, metrics: metrics, port: port)
    }

    func client(headers: [(String, String)] = []) -> TestHTTPClient {
        TestHTTPClient(port: self.port, defaultHeaders: headers)
    }

    func raw() async throws -> RawHTTPClient {
        try await RawHTTPClient.connect(port: self.port)
    }

    func stop() async {
        await self.server.stop()
    }
}
