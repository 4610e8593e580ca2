import Yams

/// The entries of one YAML mapping, after `<<` merge keys were applied and
/// unknown keys reported. Explicit keys win over merged ones.
struct ConfigMapping {
    struct Entry {
        var key: String
        var keyMark: Mark?
        var value: Node
    }

    /// The dotted path of the mapping; empty for the top level.
    var path: String
    /// Position of the mapping itself (its first key for a block mapping).
    var mark: Mark?
    /// The entries in file order, keys unique.
    var entries: [Entry]

    /// How messages name this mapping: "top level" or its path.
    var context: String {
        self.path.isEmpty ? "top level" : self.path
    }

    func childPath(_ key: String) -> String {
        self.path.isEmpty ? key : "\(self.path).\(key)"
    }

    subscript(key: String) -> ConfigNode? {
        guard let entry = self.entries.first(where: { $0.key == key }) else { return nil }
        return ConfigNode(node: entry.value, path: self.childPath(key), keyMark: entry.keyMark)
    }

    func contains(_ key: String) -> Bool {
        self.entries.contains { $0.key == key }
    }
}
