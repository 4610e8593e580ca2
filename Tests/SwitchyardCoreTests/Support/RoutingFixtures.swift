import SwitchyardCore

/// Small builders shared by the routing tests.
enum RoutingFixtures {
    /// A header lookup as the router expects it: by lower-cased name. The
    /// request's own header names may be in any case.
    static func headers(_ fields: [String: String] = [:]) -> @Sendable (String) -> String? {
        var lowered: [String: String] = [:]
        for (name, value) in fields {
            lowered[name.lowercased()] = value
        }
        let table = lowered
        return { name in table[name] }
    }

    static func lsn(_ text: String) -> LSN? {
        LSN(parsing: text)
    }

    static func replica(_ usable: Bool, _ replay: String? = nil) -> ReplicaAvailability {
        ReplicaAvailability(usable: usable, replayLSN: replay.flatMap { LSN(parsing: $0) })
    }

    static func set(_ indexes: Int...) -> ReplicaSet {
        var set = ReplicaSet()
        for index in indexes {
            set.insert(index)
        }
        return set
    }

    static func rule(
        _ name: String,
        route: Route,
        prefix: String? = nil,
        regex: PathRegex? = nil,
        methods: Set<String>? = nil,
        headers: [HeaderCondition] = []
    ) -> RoutingRule {
        RoutingRule(name: name, match: RuleMatch(pathPrefix: prefix, pathRegex: regex, methods: methods, headers: headers), route: route)
    }

    static func router(
        rules: [RoutingRule] = [],
        readMethods: Set<String> = ["GET", "HEAD", "OPTIONS"],
        onNoReplica: RoutingConfiguration.OnNoReplica = .primary,
        mode: PinConfiguration.Mode = .lsn
    ) -> RequestRouter {
        RequestRouter(
            configuration: RoutingConfiguration(readMethods: readMethods, rules: rules, onNoReplica: onNoReplica),
            pinMode: mode
        )
    }
}

extension RequestRouter {
    /// `decide` with test-friendly defaults.
    func decide(
        _ method: String,
        _ path: String,
        headers: [String: String] = [:],
        pin: PinStatus = .none,
        replicas: [ReplicaAvailability]
    ) -> RouteDecision {
        self.decide(method: method, path: path[...], header: RoutingFixtures.headers(headers), pin: pin, replicas: replicas)
    }
}
