import SwitchyardCore
import Yams

extension ConfigBuilder {
    mutating func primary(_ node: ConfigNode) -> PrimaryConfiguration? {
        guard let fields = self.mapping(node, keys: ["database", "servers"]) else { return nil }
        let database = self.required("database", in: fields).flatMap { self.connectionString($0) }
        let servers = self.required("servers", in: fields).flatMap { self.servers($0) }
        guard let database, let servers else { return nil }
        return PrimaryConfiguration(database: database, servers: servers)
    }

    mutating func replicas(_ node: ConfigNode) -> [ReplicaConfiguration]? {
        guard let items = self.list(node) else { return nil }
        guard !items.isEmpty else {
            self.report("\(node.path) must list at least one replica", at: node.mark)
            return nil
        }
        // The routing decision holds the chosen replicas in a 64-bit set: a
        // replica past the 64th would silently never take a read.
        guard items.count <= ReplicaSet.maximumCount else {
            self.report("\(node.path) must list at most \(ReplicaSet.maximumCount) replicas, found \(items.count)", at: node.mark)
            return nil
        }
        var replicas: [ReplicaConfiguration] = []
        var firstUse: [String: Mark?] = [:]
        var valid = true
        for item in items {
            guard let replica = self.replica(item, firstUse: &firstUse) else {
                valid = false
                continue
            }
            replicas.append(replica)
        }
        return valid ? replicas : nil
    }

    /// One replica; `firstUse` remembers where each name was first seen.
    private mutating func replica(_ node: ConfigNode, firstUse: inout [String: Mark?]) -> ReplicaConfiguration? {
        guard let fields = self.mapping(node, keys: ["name", "database", "servers"]) else { return nil }
        var name: String?
        if let nameNode = self.required("name", in: fields), let text = self.string(nameNode) {
            if !ConfigSyntax.isReplicaName(text) {
                self.report("\(nameNode.path) must match [A-Za-z0-9_-]+, found \(nameNode.found)", at: nameNode.mark)
            } else if text == "primary" {
                self.report("\(nameNode.path) must not be 'primary' (the name of the primary pool in metrics and logs)", at: nameNode.mark)
            } else if let first = firstUse[text] {
                self.report("duplicate replica name '\(text)' (first used at \(ConfigBuilder.position(first)))", at: nameNode.mark)
            } else {
                firstUse[text] = nameNode.mark
                name = text
            }
        }
        let database = self.required("database", in: fields).flatMap { self.connectionString($0) }
        let servers = self.required("servers", in: fields).flatMap { self.servers($0) }
        guard let name, let database, let servers else { return nil }
        return ReplicaConfiguration(name: name, database: database, servers: servers)
    }

    /// A pool: a non-empty list of `host:port` or `{ address, weight }`,
    /// no address twice.
    mutating func servers(_ node: ConfigNode) -> [UpstreamServer]? {
        guard let items = self.list(node) else { return nil }
        guard !items.isEmpty else {
            self.report("\(node.path) must list at least one server", at: node.mark)
            return nil
        }
        var servers: [UpstreamServer] = []
        var firstUse: [ServerAddress: Mark?] = [:]
        var valid = true
        for item in items {
            guard let (server, addressMark) = self.server(item) else {
                valid = false
                continue
            }
            if let first = firstUse[server.address] {
                self.report(
                    "duplicate server \(server.address) in \(node.path) (first listed at \(ConfigBuilder.position(first)))",
                    at: addressMark
                )
                valid = false
                continue
            }
            firstUse[server.address] = addressMark
            servers.append(server)
        }
        return valid ? servers : nil
    }

    /// One server and the position of its address.
    private mutating func server(_ node: ConfigNode) -> (UpstreamServer, Mark?)? {
        switch node.node {
        case .scalar where !node.isNull:
            guard let address = self.address(node, allowPortZero: false) else { return nil }
            return (UpstreamServer(address: address), node.mark)
        case .mapping:
            guard let fields = self.mapping(node, keys: ["address", "weight"]) else { return nil }
            let addressNode = self.required("address", in: fields)
            let address = addressNode.flatMap { self.address($0, allowPortZero: false) }
            var weight: Int? = 1
            if let weightNode = fields["weight"] {
                weight = self.integer(weightNode, in: 1...1000)
            }
            guard let address, let weight else { return nil }
            return (UpstreamServer(address: address, weight: weight), addressNode?.mark)
        case .scalar, .sequence, .alias:
            self.report(
                "\(node.path) must be an address host:port or a mapping with address and weight, found \(node.found)",
                at: node.mark
            )
            return nil
        }
    }

    /// "line 3, column 7" for messages that point at a second place.
    static func position(_ mark: Mark?) -> String {
        guard let mark else { return "an earlier entry" }
        return "line \(mark.line), column \(mark.column)"
    }
}
