import SwitchyardCore
import Yams

extension ConfigBuilder {
    mutating func routing(_ node: ConfigNode?) -> RoutingConfiguration {
        var routing = RoutingConfiguration()
        guard let node, let fields = self.mapping(node, keys: ["read_methods", "rules", "on_no_replica", "balance"]) else {
            return routing
        }
        if let node = fields["read_methods"], let value = self.methods(node) {
            routing.readMethods = value
        }
        if let node = fields["rules"], let items = self.list(node) {
            var firstUse: [String: Mark?] = [:]
            routing.rules = items.compactMap { self.rule($0, firstUse: &firstUse) }
        }
        if let node = fields["on_no_replica"], let value = self.choice(node, RoutingConfiguration.OnNoReplica.self) {
            routing.onNoReplica = value
        }
        if let node = fields["balance"], let value = self.choice(node, RoutingConfiguration.Balance.self) {
            routing.balance = value
        }
        return routing
    }

    private mutating func rule(_ node: ConfigNode, firstUse: inout [String: Mark?]) -> RoutingRule? {
        guard let fields = self.mapping(node, keys: ["name", "match", "route"]) else { return nil }
        var name: String?
        if let nameNode = self.required("name", in: fields), let text = self.string(nameNode) {
            if !ConfigSyntax.isRuleName(text) {
                self.report("\(nameNode.path) must match [A-Za-z0-9_.-]+, found \(nameNode.found)", at: nameNode.mark)
            } else if let first = firstUse[text] {
                self.report("duplicate rule name '\(text)' (first used at \(ConfigBuilder.position(first)))", at: nameNode.mark)
            } else {
                firstUse[text] = nameNode.mark
                name = text
            }
        }
        let match = self.required("match", in: fields).flatMap { self.ruleMatch($0) }
        let route = self.required("route", in: fields).flatMap { self.choice($0, Route.self) }
        guard let name, let match, let route else { return nil }
        return RoutingRule(name: name, match: match, route: route)
    }

    /// `match:` — every condition present must hold; at least one is needed.
    private mutating func ruleMatch(_ node: ConfigNode) -> RuleMatch? {
        guard let fields = self.mapping(node, keys: ["path_prefix", "path_regex", "methods", "header"]) else { return nil }
        var match = RuleMatch()
        var valid = true
        if let node = fields["path_prefix"] {
            if let text = self.string(node) {
                if text.hasPrefix("/") {
                    match.pathPrefix = text
                } else {
                    self.report("\(node.path) must start with '/', found \(node.found)", at: node.mark)
                    valid = false
                }
            } else {
                valid = false
            }
        }
        if let node = fields["path_regex"] {
            if let text = self.string(node) {
                if let reason = PathRegexCheck.error(in: text) {
                    self.report("\(node.path) is not a valid regular expression (\(reason)), found \(node.found)", at: node.mark)
                    valid = false
                } else {
                    do {
                        match.pathRegex = try PathRegex(text)
                    } catch {
                        let reason = String(describing: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "invalid"
                        self.report("\(node.path) is not a valid regular expression (\(reason)), found \(node.found)", at: node.mark)
                        valid = false
                    }
                }
            } else {
                valid = false
            }
        }
        if let node = fields["methods"] {
            if let methods = self.methods(node) {
                if methods.isEmpty {
                    self.report("\(node.path) must list at least one method", at: node.mark)
                    valid = false
                } else {
                    match.methods = methods
                }
            } else {
                valid = false
            }
        }
        if let node = fields["header"] {
            if let headers = self.headerConditions(node) {
                match.headers = headers
            } else {
                valid = false
            }
        }
        // Nothing given, only unknown keys, or only `header: {}`: a rule matching
        // every request is almost certainly a mistake (route by method instead).
        if valid, match == RuleMatch() {
            self.report("\(node.path) must have at least one condition (path_prefix, path_regex, methods or header)", at: node.mark)
            valid = false
        }
        return valid ? match : nil
    }

    /// `header: { NAME: VALUE, ... }`: names are tokens, compared without case.
    private mutating func headerConditions(_ node: ConfigNode) -> [HeaderCondition]? {
        guard let fields = self.mapping(node, keys: nil) else { return nil }
        var conditions: [HeaderCondition] = []
        var firstUse: [String: Mark?] = [:]
        var valid = true
        for entry in fields.entries {
            guard ConfigSyntax.isToken(entry.key) else {
                self.report("\(node.path) has an invalid header name \(ConfigNode.quoted(entry.key))", at: entry.keyMark)
                valid = false
                continue
            }
            if let first = firstUse[entry.key.lowercased()] {
                self.report(
                    "duplicate header '\(entry.key)' in \(node.path) (first at \(ConfigBuilder.position(first)); names ignore case)",
                    at: entry.keyMark
                )
                valid = false
                continue
            }
            firstUse[entry.key.lowercased()] = entry.keyMark
            let valueNode = ConfigNode(node: entry.value, path: "\(node.path).\(entry.key)", keyMark: entry.keyMark)
            guard let value = self.string(valueNode) else {
                valid = false
                continue
            }
            conditions.append(HeaderCondition(name: entry.key, value: value))
        }
        return valid ? conditions : nil
    }
}
