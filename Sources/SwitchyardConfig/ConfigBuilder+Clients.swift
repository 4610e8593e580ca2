import SwitchyardCore
import Yams

extension ConfigBuilder {
    static let clientsKeys = [
        "trusted_proxies", "max_header_bytes", "max_body_bytes", "header_timeout", "idle_timeout", "max_connections",
    ]

    mutating func clients(_ node: ConfigNode?) -> ClientsConfiguration {
        var clients = ClientsConfiguration()
        guard let node, let fields = self.mapping(node, keys: ConfigBuilder.clientsKeys) else {
            return clients
        }
        if let node = fields["trusted_proxies"], let items = self.list(node) {
            clients.trustedProxies = items.compactMap { item in
                guard let text = item.scalarText, let cidr = CIDR(parsing: text) else {
                    self.report("\(item.path) must be an address or CIDR block such as 10.0.0.0/8 or ::1/128, found \(item.found)", at: item.mark)
                    return nil
                }
                return cidr
            }
        }
        if let node = fields["max_header_bytes"], let value = self.size(node) {
            if value >= 1024, value <= 1024 * 1024 {
                clients.maxHeaderBytes = Int(value)
            } else {
                self.report("\(node.path) must be between 1KiB and 1MiB, found \(node.found)", at: node.mark)
            }
        }
        if let node = fields["max_body_bytes"], let value = self.size(node) {
            if value == 0 {
                self.report("\(node.path) must be greater than 0, found \(node.found)", at: node.mark)
            } else if let bytes = Int(exactly: value) {
                clients.maxBodyBytes = bytes
            } else {
                self.report("\(node.path) is too large, found \(node.found)", at: node.mark)
            }
        }
        if let node = fields["header_timeout"], let value = self.duration(node) {
            clients.headerTimeout = value
        }
        if let node = fields["idle_timeout"], let value = self.duration(node) {
            clients.idleTimeout = value
        }
        if let node = fields["max_connections"], let value = self.integer(node, in: 1...Int.max) {
            clients.maxConnections = value
        }
        return clients
    }
}
