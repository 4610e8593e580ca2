/// The routing decision of SPEC §3, as a pure function of the request, its pin
/// and the replicas' availability. No I/O, no allocation on the common paths.
public struct RequestRouter: Sendable {
    public let configuration: RoutingConfiguration
    public let pinMode: PinConfiguration.Mode
    /// `configuration.readMethods` as a list while it is short (the usual two
    /// or three): comparing a method with each is cheaper than hashing it for
    /// the set, once per request.
    private let readMethodList: [String]?

    public init(configuration: RoutingConfiguration, pinMode: PinConfiguration.Mode) {
        self.configuration = configuration
        self.pinMode = pinMode
        self.readMethodList = configuration.readMethods.count <= 8 ? Array(configuration.readMethods) : nil
    }

    /// The first rule whose every condition holds, if any.
    public func matchingRule(method: String, path: Substring, header: (String) -> String?) -> RoutingRule? {
        for rule in self.configuration.rules where rule.match.matches(method: method, path: path, header: header) {
            return rule
        }
        return nil
    }

    public func isRead(method: String) -> Bool {
        guard let list = self.readMethodList else { return self.configuration.readMethods.contains(method) }
        for readMethod in list where readMethod == method {
            return true
        }
        return false
    }

    /// Decides where a request goes.
    /// - Parameters:
    ///   - method: the request method as sent (methods are case-sensitive tokens).
    ///   - path: the path without the query string.
    ///   - header: looks a request header up by lower-cased name.
    ///   - pin: the verified pin cookie.
    ///   - replicas: one entry per configured replica, in configuration order.
    public func decide(
        method: String,
        path: Substring,
        header: (String) -> String?,
        pin: PinStatus,
        replicas: [ReplicaAvailability]
    ) -> RouteDecision {
        replicas.withUnsafeBufferPointer { replicas in
            self.decide(method: method, path: path, header: header, pin: pin, replicas: replicas)
        }
    }

    /// The same decision over availability the caller keeps in its own
    /// storage (the request path fills a stack buffer: no allocation).
    public func decide(
        method: String,
        path: Substring,
        header: (String) -> String?,
        pin: PinStatus,
        replicas: UnsafeBufferPointer<ReplicaAvailability>
    ) -> RouteDecision {
        if let rule = self.matchingRule(method: method, path: path, header: header) {
            switch rule.route {
            case .primary:
                return RouteDecision(target: .primary, reason: .rule(rule.name), setsPin: true)
            case .replica:
                // The rule decides (its name is the reason); with no replica usable
                // the target falls back as for any read, and it is still not a write.
                let usable = Self.usable(replicas, minimumLSN: nil)
                if usable.isEmpty {
                    return RouteDecision(target: self.noReplica().target, reason: .rule(rule.name))
                }
                return RouteDecision(target: .replicas(usable), reason: .rule(rule.name))
            }
        }
        guard self.isRead(method: method) else {
            return RouteDecision(target: .primary, reason: .write, setsPin: true)
        }
        if case .valid(let token) = pin {
            if self.pinMode == .lsn, let lsn = token.lsn {
                let caughtUp = Self.usable(replicas, minimumLSN: lsn)
                if !caughtUp.isEmpty {
                    return RouteDecision(target: .replicas(caughtUp), reason: .pinCaughtUp)
                }
            }
            return RouteDecision(target: .primary, reason: .pinned)
        }
        let usable = Self.usable(replicas, minimumLSN: nil)
        if usable.isEmpty {
            return self.noReplica()
        }
        return RouteDecision(target: .replicas(usable), reason: .read)
    }

    private func noReplica() -> RouteDecision {
        switch self.configuration.onNoReplica {
        case .primary: RouteDecision(target: .primary, reason: .noReplica)
        case .fail: RouteDecision(target: .unavailable, reason: .noReplica)
        }
    }

    private static func usable(_ replicas: UnsafeBufferPointer<ReplicaAvailability>, minimumLSN: LSN?) -> ReplicaSet {
        var set = ReplicaSet()
        for (index, replica) in replicas.enumerated() where replica.usable {
            if let minimumLSN {
                guard let replayed = replica.replayLSN, replayed >= minimumLSN else { continue }
            }
            set.insert(index)
        }
        return set
    }
}
