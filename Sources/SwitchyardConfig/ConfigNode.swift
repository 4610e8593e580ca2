import Yams

/// A YAML node together with the dotted path that names it in messages
/// (`primary.servers[1].weight`; the empty path is the top level).
struct ConfigNode {
    var node: Node
    var path: String
    /// The position of the key this node is the value of, if any.
    var keyMark: Mark?

    init(node: Node, path: String, keyMark: Mark? = nil) {
        self.node = node
        self.path = path
        self.keyMark = keyMark
    }

    /// Where messages about this node point. An empty value (`key:` with
    /// nothing after it) has no text of its own: messages point at its key.
    var mark: Mark? {
        if case let .scalar(scalar) = self.node, scalar.string.isEmpty, self.isNull, let keyMark = self.keyMark {
            return keyMark
        }
        return self.node.mark
    }

    /// True for a plain `~`, `null`, `Null`, `NULL` or an absent value
    /// (`key:` with nothing after it). A quoted `""` is a string, not null.
    var isNull: Bool {
        guard case let .scalar(scalar) = self.node else { return false }
        switch scalar.style {
        case .plain, .any:
            return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        case .singleQuoted, .doubleQuoted, .literal, .folded:
            return false
        }
    }

    /// The text of a non-null scalar, whatever YAML type it resolves to
    /// (`8080` and `"8080"` both give "8080").
    var scalarText: String? {
        guard case let .scalar(scalar) = self.node, !self.isNull else { return nil }
        return scalar.string
    }

    /// How the node is named after "found" in a message: `a mapping`,
    /// `a list`, `no value` or the quoted text. Text that looks like a
    /// database connection string or a credential is never shown.
    var found: String {
        switch self.node {
        case .mapping:
            return "a mapping"
        case .sequence:
            return "a list"
        case .alias:
            return "an alias"
        case .scalar:
            guard let text = self.scalarText else { return "no value" }
            return ConfigNode.quoted(text)
        }
    }

    /// `'text'`, shortened and with control characters escaped, or a
    /// placeholder when the text may hold a secret.
    static func quoted(_ text: String) -> String {
        if ConfigNode.mayHoldSecret(text) {
            return "a value that looks like a connection string (not shown)"
        }
        var shown = ""
        for scalar in text.unicodeScalars.prefix(60) {
            switch scalar {
            case "\n": shown += "\\n"
            case "\t": shown += "\\t"
            case "\r": shown += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    shown += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    shown.unicodeScalars.append(scalar)
                }
            }
        }
        if text.unicodeScalars.count > 60 {
            shown += "..."
        }
        return "'\(shown)'"
    }

    /// libpq conninfo strings hold `key=value` pairs, URIs hold `://` and
    /// maybe `user:password@`. No address, duration, size, name or enum
    /// value of the configuration contains any of these.
    static func mayHoldSecret(_ text: String) -> Bool {
        text.contains("=") || text.contains("://") || text.contains("@")
            || text.lowercased().contains("password")
    }
}
