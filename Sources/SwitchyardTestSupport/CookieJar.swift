import Synchronization

/// A minimal, thread-safe cookie jar for ``TestHTTPClient``: one host, no domain/path matching.
/// It stores `name=value` from `Set-Cookie`, deletes on `Max-Age=0` (or negative), and — unless
/// `honorsExpiry` is false — forgets a cookie once its positive `Max-Age` has elapsed, like a browser.
public final class CookieJar: Sendable {
    public struct Cookie: Sendable, Equatable {
        public var name: String
        public var value: String
        /// The attributes after `name=value`, as sent (e.g. `["Max-Age=30", "Path=/", "HttpOnly"]`).
        public var attributes: [String]
        /// When a positive Max-Age runs out; nil for a session cookie.
        public var expiresAt: ContinuousClock.Instant?

        public init(name: String, value: String, attributes: [String] = [], expiresAt: ContinuousClock.Instant? = nil) {
            self.name = name
            self.value = value
            self.attributes = attributes
            self.expiresAt = expiresAt
        }

        /// The value of attribute `name` (case-insensitive), "" for a flag such as HttpOnly, nil if absent.
        public func attribute(_ name: String) -> String? {
            for attribute in self.attributes {
                let parts = attribute.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if parts[0].trimmingOWS().caseInsensitiveEquals(name) {
                    return parts.count > 1 ? parts[1].trimmingOWS() : ""
                }
            }
            return nil
        }
    }

    public let honorsExpiry: Bool
    private let cookies: Mutex<[Cookie]>

    public init(honorsExpiry: Bool = true) {
        self.honorsExpiry = honorsExpiry
        self.cookies = Mutex([])
    }

    /// The live cookies in the order they were first set.
    public var all: [Cookie] {
        let now = ContinuousClock.now
        let honorsExpiry = self.honorsExpiry
        return self.cookies.withLock { cookies in
            if honorsExpiry {
                cookies.removeAll { $0.expiresAt.map { $0 <= now } ?? false }
            }
            return cookies
        }
    }

    /// The value of cookie `name`, or nil.
    public subscript(name: String) -> String? {
        self.all.first { $0.name == name }?.value
    }

    public var isEmpty: Bool { self.all.isEmpty }

    /// The `Cookie:` request header value (`a=1; b=2`), or nil when the jar is empty.
    public var cookieHeader: String? {
        let cookies = self.all
        guard !cookies.isEmpty else { return nil }
        return cookies.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    /// Sets (or replaces) a cookie by hand.
    public func set(_ name: String, _ value: String) {
        self.store(Cookie(name: name, value: value))
    }

    public func remove(_ name: String) {
        self.cookies.withLock { $0.removeAll { $0.name == name } }
    }

    public func removeAll() {
        self.cookies.withLock { $0.removeAll() }
    }

    /// Applies every `Set-Cookie` header of `response`.
    public func update(from response: TestResponse) {
        for header in response.headers(named: "Set-Cookie") {
            self.apply(setCookie: header)
        }
    }

    /// Applies one `Set-Cookie` header value.
    public func apply(setCookie header: String) {
        let parts = header.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingOWS() }
        guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { return }
        let name = pair[..<equals].trimmingOWS()
        guard !name.isEmpty else { return }
        var value = pair[pair.index(after: equals)...].trimmingOWS()
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast())
        }
        var cookie = Cookie(name: name, value: value, attributes: Array(parts.dropFirst()).filter { !$0.isEmpty })
        if let maxAge = cookie.attribute("Max-Age"), let seconds = Int(maxAge) {
            if seconds <= 0 {
                self.remove(name)
                return
            }
            cookie.expiresAt = ContinuousClock.now.advanced(by: .seconds(seconds))
        }
        self.store(cookie)
    }

    private func store(_ cookie: Cookie) {
        self.cookies.withLock { cookies in
            if let index = cookies.firstIndex(where: { $0.name == cookie.name }) {
                cookies[index] = cookie
            } else {
                cookies.append(cookie)
            }
        }
    }
}
