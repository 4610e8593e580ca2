import SwitchyardCore
import Yams

extension ConfigBuilder {
    static let upstreamKeys = [
        "connect_timeout", "response_timeout", "idle_timeout", "retries", "max_fails", "fail_timeout", "keepalive", "health_check",
    ]

    mutating func upstream(_ node: ConfigNode?) -> UpstreamConfiguration {
        var upstream = UpstreamConfiguration()
        guard let node, let fields = self.mapping(node, keys: ConfigBuilder.upstreamKeys) else {
            return upstream
        }
        if let node = fields["connect_timeout"], let value = self.duration(node) {
            upstream.connectTimeout = value
        }
        if let node = fields["response_timeout"], let value = self.duration(node) {
            upstream.responseTimeout = value
        }
        if let node = fields["idle_timeout"], let value = self.duration(node) {
            upstream.idleTimeout = value
        }
        if let node = fields["retries"], let value = self.integer(node, in: 0...Int.max) {
            upstream.retries = value
        }
        if let node = fields["max_fails"], let value = self.integer(node, in: 1...Int.max) {
            upstream.maxFails = value
        }
        if let node = fields["fail_timeout"], let value = self.duration(node) {
            upstream.failTimeout = value
        }
        if let node = fields["keepalive"], let value = self.integer(node, in: 0...Int.max) {
            upstream.keepalive = value
        }
        if let node = fields["health_check"] {
            upstream.healthCheck = self.healthCheck(node)
        }
        return upstream
    }

    /// `health_check:`; present (even empty) enables the active check.
    private mutating func healthCheck(_ node: ConfigNode) -> HealthCheckConfiguration? {
        guard let fields = self.mapping(node, keys: ["path", "interval", "timeout"]) else { return nil }
        var check = HealthCheckConfiguration()
        if let node = fields["path"], let value = self.absolutePath(node) {
            check.path = value
        }
        if let node = fields["interval"], let value = self.duration(node) {
            check.interval = value
        }
        if let node = fields["timeout"], let value = self.duration(node) {
            check.timeout = value
        }
        return check
    }
}
