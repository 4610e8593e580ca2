import SwitchyardCore
import Yams

/// Readers for single values. Each returns nil after reporting a problem at
/// the node's position.
extension ConfigBuilder {
    /// Any non-null scalar, as written.
    mutating func string(_ node: ConfigNode) -> String? {
        guard let text = node.scalarText else {
            self.report("\(node.path) must be a string, found \(node.found)", at: node.mark)
            return nil
        }
        return text
    }

    /// A libpq conninfo or URI. Its text is never put into a message, not
    /// even what kind of node was found (a mapping could hold a password).
    mutating func connectionString(_ node: ConfigNode) -> String? {
        guard let text = node.scalarText, !text.allSatisfy(\.isWhitespace) else {
            self.report("\(node.path) must be a non-empty string", at: node.mark)
            return nil
        }
        return text
    }

    /// `true`/`false`, also in the other spellings YAML 1.1 knows
    /// (`True`, `TRUE`, `yes`, `on`, ...).
    mutating func bool(_ node: ConfigNode) -> Bool? {
        switch node.scalarText {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON":
            return true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF":
            return false
        default:
            self.report("\(node.path) must be true or false, found \(node.found)", at: node.mark)
            return nil
        }
    }

    /// A decimal integer within `range`.
    mutating func integer(_ node: ConfigNode, in range: ClosedRange<Int>) -> Int? {
        if let value = ConfigBuilder.decimalInteger(node, in: range) {
            return value
        }
        let expectation =
            range.upperBound == Int.max ? "an integer >= \(range.lowerBound)" : "an integer from \(range.lowerBound) to \(range.upperBound)"
        self.report("\(node.path) must be \(expectation), found \(node.found)", at: node.mark)
        return nil
    }

    /// The node's decimal integer if it is one within `range`; nil otherwise
    /// (nothing reported: the caller words the problem).
    static func decimalInteger(_ node: ConfigNode, in range: ClosedRange<Int>) -> Int? {
        guard let text = node.scalarText, ConfigBuilder.isDecimalInteger(text), let value = Int(text), range.contains(value) else {
            return nil
        }
        return value
    }

    /// A duration (`ConfigValue.duration`); zero only when `allowZero`.
    mutating func duration(_ node: ConfigNode, allowZero: Bool = false) -> Duration? {
        guard let text = node.scalarText, let value = ConfigValue.duration(text) else {
            self.report("\(node.path) must be a duration such as 250ms, 2s or 1m, found \(node.found)", at: node.mark)
            return nil
        }
        guard allowZero || value > .zero else {
            self.report("\(node.path) must be a duration greater than 0, found \(node.found)", at: node.mark)
            return nil
        }
        return value
    }

    /// A size in bytes (`ConfigValue.size`).
    mutating func size(_ node: ConfigNode) -> UInt64? {
        guard let text = node.scalarText, let value = ConfigValue.size(text) else {
            self.report("\(node.path) must be a size such as 512, 16KiB, 10MiB or 1GiB, found \(node.found)", at: node.mark)
            return nil
        }
        return value
    }

    /// `host:port` or `[v6]:port`; port 0 only when `allowPortZero`
    /// (listeners may ask for an ephemeral port, app servers may not).
    mutating func address(_ node: ConfigNode, allowPortZero: Bool) -> ServerAddress? {
        guard let text = node.scalarText, let address = ServerAddress(parsing: text) else {
            self.report("\(node.path) must be an address host:port or [v6]:port, found \(node.found)", at: node.mark)
            return nil
        }
        guard allowPortZero || address.port != 0 else {
            self.report("\(node.path) must have a port from 1 to 65535, found \(node.found)", at: node.mark)
            return nil
        }
        return address
    }

    /// One of the raw values of `T`, compared exactly (or ignoring case).
    mutating func choice<T: RawRepresentable & CaseIterable>(
        _ node: ConfigNode,
        _ type: T.Type,
        ignoringCase: Bool = false
    ) -> T? where T.RawValue == String {
        if let text = node.scalarText,
            let value = T.allCases.first(where: { ignoringCase ? $0.rawValue.lowercased() == text.lowercased() : $0.rawValue == text })
        {
            return value
        }
        let choices = T.allCases.map(\.rawValue).joined(separator: ", ")
        self.report("\(node.path) must be one of \(choices), found \(node.found)", at: node.mark)
        return nil
    }

    /// The name of an environment variable, `[A-Za-z_][A-Za-z0-9_]*`.
    mutating func environmentName(_ node: ConfigNode) -> String? {
        guard let text = node.scalarText, ConfigSyntax.isEnvironmentName(text) else {
            self.report("\(node.path) must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*), found \(node.found)", at: node.mark)
            return nil
        }
        return text
    }

    /// An HTTP method (an RFC 9110 token), upper-cased.
    mutating func method(_ node: ConfigNode) -> String? {
        guard let text = node.scalarText, ConfigSyntax.isToken(text) else {
            self.report("\(node.path) must be an HTTP method such as GET, found \(node.found)", at: node.mark)
            return nil
        }
        return text.uppercased()
    }

    /// A list of HTTP methods, upper-cased.
    mutating func methods(_ node: ConfigNode) -> Set<String>? {
        guard let items = self.list(node) else { return nil }
        var methods = Set<String>()
        var valid = true
        for item in items {
            if let method = self.method(item) {
                methods.insert(method)
            } else {
                valid = false
            }
        }
        return valid ? methods : nil
    }

    /// A path that must start with `/` and hold no space, `;` or control
    /// character (it goes into a request line or a `Set-Cookie` attribute).
    mutating func absolutePath(_ node: ConfigNode) -> String? {
        guard let text = self.string(node) else { return nil }
        guard text.hasPrefix("/") else {
            self.report("\(node.path) must start with '/', found \(node.found)", at: node.mark)
            return nil
        }
        guard ConfigSyntax.isCookiePath(text), !text.contains(" ") else {
            self.report("\(node.path) must not contain spaces, ';' or control characters, found \(node.found)", at: node.mark)
            return nil
        }
        return text
    }

    static func isDecimalInteger(_ text: String) -> Bool {
        var digits = Substring(text)
        if let first = digits.first, first == "+" || first == "-" {
            digits = digits.dropFirst()
        }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
