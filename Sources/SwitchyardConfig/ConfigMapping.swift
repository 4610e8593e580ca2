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
    private(set) var entries: [Entry] = []
    /// Where each key is in `entries`: lookups stay constant-time in a
    /// mapping of many keys (a linear search made a 20,000-key file take
    /// seconds per lookup pass, quadratic in all).
    private var positions: [String: Int] = [:]

    init(path: String, mark: Mark?) {
        self.path = path
        self.mark = mark
    }

    /// Adds an entry unless its key is already there (explicit keys come
    /// first, so they win over merged ones).
    mutating func appendIfNew(_ entry: Entry) {
        guard self.positions[entry.key] == nil else { return }
        self.positions[entry.key] = self.entries.count
        self.entries.append(entry)
    }

    /// How messages name this mapping: "top level" or its path.
    var context: String {
        self.path.isEmpty ? "top level" : self.path
    }

    func childPath(_ key: String) -> String {
        self.path.isEmpty ? key : "\(self.path).\(key)"
    }

    subscript(key: String) -> ConfigNode? {
        guard let position = self.positions[key] else { return nil }
        let entry = self.entries[position]
        return ConfigNode(node: entry.value, path: self.childPath(key), keyMark: entry.keyMark)
    }

    func contains(_ key: String) -> Bool {
        self.positions[key] != nil
    }
}
