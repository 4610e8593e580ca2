import SwitchyardCore
import Yams

extension ConfigBuilder {
    static let topLevelKeys = [
        "listen", "event_loops", "drain_timeout", "admin", "log", "primary", "replicas", "routing", "pin", "lag", "upstream", "clients",
    ]

    /// The whole configuration, or nil when a required part is missing or
    /// wrong (the problems say which).
    mutating func configuration(from root: Node) -> SwitchyardConfiguration? {
        guard let top = self.mapping(ConfigNode(node: root, path: ""), keys: ConfigBuilder.topLevelKeys) else {
            return nil
        }
        let listenNode = self.required("listen", in: top)
        let listen = listenNode.flatMap { self.address($0, allowPortZero: true) }
        let eventLoops = top["event_loops"].map { self.eventLoops($0) } ?? .auto
        var drainTimeout = Duration.seconds(30)
        if let node = top["drain_timeout"], let value = self.duration(node, allowZero: true) {
            drainTimeout = value
        }
        let admin = top["admin"].flatMap { self.admin($0, listen: listen, listenNode: listenNode) }
        let log = self.log(top["log"])
        let primary = self.required("primary", in: top).flatMap { self.primary($0) }
        let replicas = self.required("replicas", in: top).flatMap { self.replicas($0) }
        let routing = self.routing(top["routing"])
        let pin = self.pin(top["pin"])
        let lag = self.lag(top["lag"])
        let upstream = self.upstream(top["upstream"])
        let clients = self.clients(top["clients"])
        guard let listen, let primary, let replicas else { return nil }
        return SwitchyardConfiguration(
            listen: listen,
            eventLoops: eventLoops,
            drainTimeout: drainTimeout,
            admin: admin,
            log: log,
            primary: primary,
            replicas: replicas,
            routing: routing,
            pin: pin,
            lag: lag,
            upstream: upstream,
            clients: clients
        )
    }

    /// `event_loops`: `auto` or a count from 1 to 1024 (a bad value is
    /// reported and reads as `auto`, so the other problems still show).
    mutating func eventLoops(_ node: ConfigNode) -> EventLoopCount {
        if node.scalarText == "auto" { return .auto }
        let range = EventLoopCount.range
        if let value = ConfigBuilder.decimalInteger(node, in: range) {
            return .fixed(value)
        }
        self.report(
            "\(node.path) must be auto or an integer from \(range.lowerBound) to \(range.upperBound), found \(node.found)",
            at: node.mark)
        return .auto
    }

    /// `admin:`; present (even empty) enables the admin listener.
    /// `token_env: null` means no token is required.
    mutating func admin(_ node: ConfigNode, listen: ServerAddress?, listenNode: ConfigNode?) -> AdminConfiguration? {
        guard let fields = self.mapping(node, keys: ["listen", "token_env"]) else { return nil }
        var admin = AdminConfiguration()
        if let node = fields["listen"], let value = self.address(node, allowPortZero: true) {
            admin.listen = value
        }
        if let node = fields["token_env"] {
            if node.isNull {
                admin.tokenEnv = nil
            } else if let value = self.environmentName(node) {
                admin.tokenEnv = value
            }
        }
        if let listen, ConfigBuilder.listenersClash(listen, admin.listen) {
            let mark = fields["listen"]?.mark ?? listenNode?.mark
            self.report("admin.listen \(admin.listen) conflicts with listen \(listen)", at: mark)
        }
        return admin
    }

    /// Two listeners on the same port clash when they bind the same host or
    /// either binds every address. Port 0 (ephemeral) never clashes.
    static func listenersClash(_ lhs: ServerAddress, _ rhs: ServerAddress) -> Bool {
        let wildcards: Set<String> = ["0.0.0.0", "::", "*"]
        guard lhs.port == rhs.port, lhs.port != 0 else { return false }
        return lhs.host == rhs.host || wildcards.contains(lhs.host) || wildcards.contains(rhs.host)
    }

    mutating func log(_ node: ConfigNode?) -> LogConfiguration {
        var log = LogConfiguration()
        guard let node, let fields = self.mapping(node, keys: ["level", "format", "decisions", "decision_header"]) else {
            return log
        }
        if let node = fields["level"], let value = self.choice(node, LogConfiguration.Level.self) {
            log.level = value
        }
        if let node = fields["format"], let value = self.choice(node, LogConfiguration.Format.self) {
            log.format = value
        }
        if let node = fields["decisions"], let value = self.bool(node) {
            log.decisions = value
        }
        if let node = fields["decision_header"], let value = self.bool(node) {
            log.decisionHeader = value
        }
        return log
    }
}
