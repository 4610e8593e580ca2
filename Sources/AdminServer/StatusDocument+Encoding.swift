/// Hand-written `encode(to:)`s: the synthesized ones drop nil values
/// (`encodeIfPresent`), and SPEC §7 wants an explicit `null`. They also write
/// non-finite numbers as `null` (JSON has no NaN).
///
/// Key order: Foundation's `JSONEncoder` on Linux writes object keys in its
/// dictionary order (stable within a process), not in encoding order; no
/// client may rely on an order.
extension StatusDocument {
    enum CodingKeys: String, CodingKey {
        case version
        case uptimeSeconds = "uptime_s"
        case primary
        case replicas
        case totals
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.version, forKey: .version)
        try container.encode(AdminJSON.finite(self.uptimeSeconds), forKey: .uptimeSeconds)
        try container.encode(self.primary, forKey: .primary)
        try container.encode(self.replicas, forKey: .replicas)
        try container.encode(self.totals, forKey: .totals)
    }
}

extension StatusDocument.Server {
    enum CodingKeys: String, CodingKey {
        case address
        case up
        case active
        case failures
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.address, forKey: .address)
        try container.encode(self.up, forKey: .up)
        try container.encode(self.active, forKey: .active)
        try container.encode(self.failures, forKey: .failures)
    }
}

extension StatusDocument.Primary {
    enum CodingKeys: String, CodingKey {
        case reachable
        case inRecovery = "in_recovery"
        case currentLSN = "current_lsn"
        case servers
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.reachable, forKey: .reachable)
        try container.encode(self.inRecovery, forKey: .inRecovery)
        try container.encode(self.currentLSN, forKey: .currentLSN)
        try container.encode(self.servers, forKey: .servers)
    }
}

extension StatusDocument.Replica {
    enum CodingKeys: String, CodingKey {
        case name
        case inRotation = "in_rotation"
        case cause
        case lagSeconds = "lag_s"
        case lagBytes = "lag_bytes"
        case replayLSN = "replay_lsn"
        case servers
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.inRotation, forKey: .inRotation)
        try container.encode(self.inRotation ? nil : self.cause, forKey: .cause)
        try container.encode(AdminJSON.finite(self.lagSeconds), forKey: .lagSeconds)
        try container.encode(self.lagBytes, forKey: .lagBytes)
        try container.encode(self.replayLSN, forKey: .replayLSN)
        try container.encode(self.servers, forKey: .servers)
    }
}

extension StatusDocument.Totals {
    enum CodingKeys: String, CodingKey {
        case requests
        case byRoute = "by_route"
        case byReason = "by_reason"
    }

    /// The routes and reasons always present (SPEC §3, §5).
    static let fixedRoutes = ["primary", "replica"]
    static let fixedReasons = ["read", "write", "pinned", "pin-caught-up", "no-replica"]

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.requests, forKey: .requests)
        try container.encode(Self.completed(self.byRoute, fixed: Self.fixedRoutes), forKey: .byRoute)
        try container.encode(Self.completed(self.byReason, fixed: Self.fixedReasons), forKey: .byReason)
    }

    /// The counts with every fixed key present (0 when absent).
    static func completed(_ counts: [String: Int], fixed: [String]) -> [String: Int] {
        var result = counts
        for key in fixed where result[key] == nil {
            result[key] = 0
        }
        return result
    }
}
