/// A routing rule (SPEC §2 `routing.rules`): first match wins, checked before
/// the method split. Every condition present must hold.
public struct RoutingRule: Sendable, Equatable {
    public var name: String
    public var match: RuleMatch
    public var route: Route

    public init(name: String, match: RuleMatch, route: Route) {
        self.name = name
        self.match = match
        self.route = route
    }
}

public struct RuleMatch: Sendable, Equatable {
    public var pathPrefix: String?
    public var pathRegex: PathRegex?
    /// Upper-cased method names; nil = any method.
    public var methods: Set<String>?
    /// Header conditions: the name compared case-insensitively, the value exactly.
    public var headers: [HeaderCondition]

    public init(pathPrefix: String? = nil, pathRegex: PathRegex? = nil, methods: Set<String>? = nil, headers: [HeaderCondition] = []) {
        self.pathPrefix = pathPrefix
        self.pathRegex = pathRegex
        self.methods = methods
        self.headers = headers
    }
}

public struct HeaderCondition: Sendable, Equatable {
    /// Lower-cased header name.
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name.lowercased()
        self.value = value
    }
}

/// A compiled path regular expression: POSIX extended syntax (regcomp with
/// REG_EXTENDED | REG_NOSUB), unanchored like nginx's `location ~`; use `^`
/// to anchor. Equal when the pattern text is equal.
public struct PathRegex: Sendable, Equatable, CustomStringConvertible {
    public struct CompileError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public let pattern: String
    private let compiled: CompiledPOSIXRegex

    /// Throws `CompileError` with regcomp's message for an invalid pattern.
    public init(_ pattern: String) throws {
        self.pattern = pattern
        self.compiled = try CompiledPOSIXRegex(pattern)
    }

    public func matches(_ path: some StringProtocol) -> Bool {
        self.compiled.matches(String(path))
    }

    public var description: String { self.pattern }

    public static func == (lhs: PathRegex, rhs: PathRegex) -> Bool {
        lhs.pattern == rhs.pattern
    }
}
