import SwitchyardCore
import Yams

/// Walks the composed YAML tree, reports every problem with its position and
/// builds the validated `SwitchyardConfiguration`.
///
/// Each section reader returns a usable value even when parts of the section
/// are wrong (wrong parts keep their defaults) so that every problem of the
/// file is found in one pass; the caller discards the result when
/// `problems` is not empty.
struct ConfigBuilder {
    /// The path as given by the user, for messages only.
    let file: String
    private(set) var problems: [ConfigProblem] = []
    /// Entries read through `<<` merge keys so far, in the whole file.
    private var mergedEntries = 0
    private var reportedMergeLimit = false

    /// At most this many entries are read through merge keys in one file.
    /// Aliases share nodes, so a few hundred bytes of `<<: [*a, *a, ...]`
    /// nested a few levels deep would otherwise merge billions of entries
    /// (the "billion laughs" of YAML) and `check` or a reload would never end.
    static let maximumMergedEntries = 10_000

    init(file: String) {
        self.file = file
    }

    mutating func report(_ message: String, at mark: Mark?) {
        self.problems.append(ConfigProblem(file: self.file, line: mark?.line, column: mark?.column, message: message))
    }

    /// The node as a mapping whose keys are all in `keys` (nil: any key).
    /// A null node (`admin:` with nothing under it) is an empty mapping.
    /// Reports a node of another kind and every unknown key.
    mutating func mapping(_ node: ConfigNode, keys: [String]?) -> ConfigMapping? {
        var result = ConfigMapping(path: node.path, mark: node.mark)
        if node.isNull {
            return result
        }
        guard case let .mapping(mapping) = node.node else {
            let name = node.path.isEmpty ? "the top level" : node.path
            self.report("\(name) must be a mapping, found \(node.found)", at: node.mark)
            return nil
        }
        self.collect(mapping, into: &result, depth: 0)
        if let keys {
            for entry in result.entries where !keys.contains(entry.key) {
                self.reportUnknownKey(entry, in: result, known: keys)
            }
        }
        return result
    }

    /// The value of a key that must be present; reports its absence at the
    /// position of the mapping.
    mutating func required(_ key: String, in mapping: ConfigMapping) -> ConfigNode? {
        guard let node = mapping[key] else {
            self.report("missing required key '\(key)' in \(mapping.context)", at: mapping.mark)
            return nil
        }
        return node
    }

    /// The items of a list, each named `path[index]`. A null node is an
    /// empty list.
    mutating func list(_ node: ConfigNode) -> [ConfigNode]? {
        if node.isNull {
            return []
        }
        guard case let .sequence(sequence) = node.node else {
            self.report("\(node.path) must be a list, found \(node.found)", at: node.mark)
            return nil
        }
        return sequence.enumerated().map { index, item in
            ConfigNode(node: item, path: "\(node.path)[\(index)]")
        }
    }

    /// Appends the entries of `mapping`, then those brought in by its `<<`
    /// merge keys (YAML merge-key convention: explicit keys win, then the
    /// merged mappings in the order listed).
    private mutating func collect(_ mapping: Node.Mapping, into result: inout ConfigMapping, depth: Int) {
        if depth > 0 {
            self.mergedEntries += mapping.count
            guard self.mergedEntries <= ConfigBuilder.maximumMergedEntries else {
                if !self.reportedMergeLimit {
                    self.reportedMergeLimit = true
                    self.report(
                        "'<<' in \(result.context) merges more than \(ConfigBuilder.maximumMergedEntries) entries in all (aliases merged again and again?)",
                        at: result.mark
                    )
                }
                return
            }
        }
        var merges: [Node] = []
        for (key, value) in mapping {
            guard case let .scalar(scalar) = key else {
                let found = ConfigNode(node: key, path: result.path).found
                self.report("keys in \(result.context) must be plain names, found \(found)", at: key.mark)
                continue
            }
            if scalar.string == "<<", scalar.style == .plain || scalar.style == .any {
                merges.append(value)
                continue
            }
            result.appendIfNew(ConfigMapping.Entry(key: scalar.string, keyMark: scalar.mark, value: value))
        }
        guard depth < 16 else { return }
        for merge in merges {
            switch merge {
            case let .mapping(source):
                self.collect(source, into: &result, depth: depth + 1)
            case let .sequence(sources) where sources.allSatisfy({ $0.mapping != nil }):
                for source in sources {
                    if case let .mapping(sourceMapping) = source {
                        self.collect(sourceMapping, into: &result, depth: depth + 1)
                    }
                }
            case .sequence, .scalar, .alias:
                let found = ConfigNode(node: merge, path: result.path).found
                self.report("'<<' in \(result.context) must merge a mapping or a list of mappings, found \(found)", at: merge.mark)
            }
        }
    }

    private mutating func reportUnknownKey(_ entry: ConfigMapping.Entry, in mapping: ConfigMapping, known: [String]) {
        guard !ConfigNode.mayHoldSecret(entry.key) else {
            self.report("unknown key in \(mapping.context) (not shown: it looks like a connection string)", at: entry.keyMark)
            return
        }
        var message = "unknown key \(ConfigNode.quoted(entry.key)) in \(mapping.context)"
        if let suggestion = KeySuggestion.closest(to: entry.key, among: known) {
            message += "; did you mean '\(suggestion)'?"
        }
        self.report(message, at: entry.keyMark)
    }
}
