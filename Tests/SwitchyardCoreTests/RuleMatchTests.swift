import SwitchyardCore
import Testing

@Suite("RuleMatch and PathRegex: each kind of condition")
struct RuleMatchTests {
    typealias F = RoutingFixtures

    private func matches(_ match: RuleMatch, method: String = "GET", path: String, headers: [String: String] = [:]) -> Bool {
        match.matches(method: method, path: path[...], header: F.headers(headers))
    }

    // MARK: - path_prefix

    @Test(
        "path_prefix is a plain prefix of the path, case-sensitive",
        arguments: [
            ("/admin", "/admin", true),
            ("/admin", "/admin/", true),
            ("/admin", "/admin/users/7", true),
            ("/admin", "/administrator", true),  // a string prefix, as nginx's `location /admin`
            ("/admin/", "/admin", false),
            ("/admin", "/Admin", false),
            ("/admin", "/api/admin", false),
            ("/admin", "/", false),
            ("/admin", "", false),
            ("/", "/anything", true),
            ("/", "/", true),
        ]
    )
    func pathPrefix(prefix: String, path: String, expected: Bool) {
        #expect(self.matches(RuleMatch(pathPrefix: prefix), path: path) == expected)
    }

    // Found by the rule-matcher fuzz target (deploy/fuzz/regressions/rule-matcher/):
    // String.hasPrefix compares grapheme clusters, so a combining mark after the
    // prefix's last letter made `/admin` no prefix of the path at all.
    @Test(
        "path_prefix compares UTF-8 bytes, not grapheme clusters (regression: fuzz rule-matcher)",
        arguments: [
            ("/admin", "/admin\u{301}/users", true),
            ("/admin/", "/admin/\u{301}users", true),
            ("/caf\u{E9}", "/cafe\u{301}", false),
            ("/cafe\u{301}", "/caf\u{E9}", false),
            ("/caf\u{E9}", "/caf\u{E9}/menu", true),
        ]
    )
    func pathPrefixIsBytes(prefix: String, path: String, expected: Bool) {
        #expect(self.matches(RuleMatch(pathPrefix: prefix), path: path) == expected)
    }

    // MARK: - path_regex

    @Test(
        "path_regex is POSIX extended, unanchored unless ^ / $ are used",
        arguments: [
            ("^/api/v[0-9]+/reports$", "/api/v2/reports", true),
            ("^/api/v[0-9]+/reports$", "/api/v12/reports", true),
            ("^/api/v[0-9]+/reports$", "/api/v2/reports/x", false),
            ("^/api/v[0-9]+/reports$", "/api/vx/reports", false),
            ("^/api/v[0-9]+/reports$", "/x/api/v2/reports", false),
            ("reports", "/x/reports/y", true),
            ("reports", "/x/Reports/y", false),
            ("\\.(csv|xlsx)$", "/export/all.csv", true),
            ("\\.(csv|xlsx)$", "/export/all.xlsx", true),
            ("\\.(csv|xlsx)$", "/export/allxcsv", false),
            ("\\.(csv|xlsx)$", "/export/all.csv.bak", false),
            ("^/(admin|internal)(/|$)", "/internal", true),
            ("^/(admin|internal)(/|$)", "/admin/x", true),
            ("^/(admin|internal)(/|$)", "/administrator", false),
            ("^/items/[[:digit:]]{3}$", "/items/123", true),
            ("^/items/[[:digit:]]{3}$", "/items/12", false),
            ("^/items/[[:digit:]]{3}$", "/items/1234", false),
            ("^/a+b?c$", "/aaac", true),
            ("^/a+b?c$", "/abc", true),
            ("^/a+b?c$", "/bc", false),
            ("^/a+b?c$", "/abbc", false),
            (".*", "", true),
            ("^$", "", true),
            ("^$", "/", false),
        ]
    )
    func pathRegex(pattern: String, path: String, expected: Bool) throws {
        let regex = try PathRegex(pattern)
        #expect(regex.matches(path) == expected)
        #expect(regex.matches(path[...]) == expected)
        #expect(self.matches(RuleMatch(pathRegex: regex), path: path) == expected)
    }

    @Test("the regex sees only the path it is given (the router passes it without the query)")
    func regexOnPathOnly() throws {
        let regex = try PathRegex("^/search$")
        let target = "/search?q=1"
        let path = target.prefix { $0 != "?" }
        #expect(regex.matches(path))
        #expect(!regex.matches(target))
    }

    /// Runs in a child process: a failed compile must not take the process
    /// down (an invalid `path_regex` in the file has to become a positioned
    /// `check` error, not a crash).
    @Test("an invalid pattern throws a CompileError carrying regcomp's message, without crashing")
    func invalidPattern() async {
        await #expect(processExitsWith: .success) {
            for pattern in ["(", "a(b", "[", "[a-", "a{1", "a{2,1}", "\\", "*a", "+"] {
                do {
                    _ = try PathRegex(pattern)
                    preconditionFailure("'\(pattern)' compiled")
                } catch let error as PathRegex.CompileError {
                    precondition(!error.description.isEmpty, "empty message for '\(pattern)'")
                } catch {
                    preconditionFailure("'\(pattern)' threw \(error)")
                }
            }
        }
    }

    // Found by fuzzing rule patterns: nested bounds make glibc's regcomp copy a
    // group once per repetition; `(a{32767}){32767}` took 4 GB and 11 s before
    // failing. Such a pattern is refused before regcomp sees it.
    @Test(
        "a pattern whose bounded repetitions expand past 10,000 atoms is refused before regcomp (regression: fuzz)",
        arguments: [
            "(a{32767}){32767}", "((a{100}){100}){100}", "(a{1000}){1000}", "a{10001}", "(((x+)+)+){2000}", "([a-z]{100}|b){200}",
        ]
    )
    func patternTooLarge(pattern: String) {
        #expect(PathRegex.expandedSize(of: pattern) > PathRegex.maximumExpandedSize)
        #expect(throws: PathRegex.CompileError.self) { try PathRegex(pattern) }
    }

    // Found probing glibc after the fuzz findings above: with back-references its
    // matcher backtracks; (.*)(.*)(.*)\3\2\1x did not finish in 20 s on a 100-byte path.
    @Test(
        "a back-reference is refused (a client-chosen path could make matching exponential)",
        arguments: ["(.*)(.*)(.*)\\3\\2\\1x", "^(a)\\1$", "(x)[a]\\9"]
    )
    func backReferenceRefused(pattern: String) {
        #expect(PathRegex.hasBackReference(pattern))
        #expect(throws: PathRegex.CompileError.self) { try PathRegex(pattern) }
    }

    @Test("an escaped digit inside brackets or an escaped backslash before a digit is no back-reference", arguments: ["[\\1]", "\\\\1", "a\\.1", "\\{1\\}"])
    func notABackReference(pattern: String) throws {
        #expect(!PathRegex.hasBackReference(pattern))
        _ = try PathRegex(pattern)
    }

    // Found by the rule-matcher fuzz target (regressions/rule-matcher/stacked-repetitions).
    @Test("a repetition of a repetition is refused (undefined in POSIX, slow in glibc)", arguments: ["a+*", "a**", "a{2}{3}", "a?+", "x)++++*++++++++", "a*{2}"])
    func stackedRepetitionRefused(pattern: String) {
        #expect(PathRegex.hasStackedRepetition(pattern))
        #expect(throws: PathRegex.CompileError.self) { try PathRegex(pattern) }
    }

    @Test("repetitions of groups, escapes and brackets are not stacked", arguments: ["(a+)*", "a\\**", "[*+]+", "a{2}b{3}"])
    func notStacked(pattern: String) throws {
        #expect(!PathRegex.hasStackedRepetition(pattern))
        _ = try PathRegex(pattern)
    }

    @Test(
        "the expanded size counts atoms, alternatives and bounds",
        arguments: [
            ("abc", 3), ("a{3}", 3), ("(ab){2,4}", 8), ("a{2,}", 3), ("a+", 2), ("(a|bc)", 3), ("[]{}]{2}", 2), ("a*", 1),
            ("[[:digit:]]{4}", 4), ("\\{{2}", 2), ("^/api/v[0-9]+/(users|orders)/[0-9]{1,12}$", 35), ("(a|b){5000}", 10_000),
        ]
    )
    func expandedSize(pattern: String, size: Int) throws {
        #expect(PathRegex.expandedSize(of: pattern) == size)
        _ = try PathRegex(pattern)
    }

    /// `regcomp` / `regexec` read C strings: without care, "^/admin$" matches
    /// "/admin\0/anything" and a pattern is cut at its first NUL.
    @Test("an embedded NUL is not the end of the path or of the pattern")
    func embeddedNUL() throws {
        let exact = try PathRegex("^/admin$")
        #expect(!exact.matches("/admin\u{0}/secret"))
        #expect(!exact.matches("/admin\u{0}"))
        #expect(throws: PathRegex.CompileError.self) {
            _ = try PathRegex("^/admin\u{0}/never$")
        }
    }

    @Test("PathRegex equality and description are by pattern text")
    func regexEquality() throws {
        #expect(try PathRegex("^/a") == PathRegex("^/a"))
        #expect(try PathRegex("^/a") != PathRegex("^/b"))
        #expect(try PathRegex("^/a").description == "^/a")
        #expect(try PathRegex("^/a").pattern == "^/a")
    }

    @Test("a compiled regex can be used from many tasks at once")
    func regexConcurrent() async throws {
        let regex = try PathRegex("^/items/[0-9]+$")
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<64 {
                group.addTask { regex.matches("/items/\(index)") && !regex.matches("/items/x\(index)") }
            }
            var all: [Bool] = []
            for await result in group {
                all.append(result)
            }
            return all
        }
        #expect(results.count == 64)
        #expect(results.allSatisfy { $0 })
    }

    // MARK: - methods

    @Test(
        "methods compare exactly",
        arguments: [
            (Set<String>(["POST"]), "POST", true),
            (Set<String>(["POST"]), "GET", false),
            (["POST"], "post", false),
            (["GET", "HEAD"], "HEAD", true),
            (["GET", "HEAD"], "OPTIONS", false),
            ([], "GET", false),
        ] as [(Set<String>, String, Bool)]
    )
    func methods(methods: Set<String>, method: String, expected: Bool) {
        #expect(self.matches(RuleMatch(methods: methods), method: method, path: "/") == expected)
    }

    @Test("no methods condition matches any method")
    func anyMethod() {
        for method in ["GET", "POST", "DELETE", "X-CUSTOM"] {
            #expect(self.matches(RuleMatch(pathPrefix: "/"), method: method, path: "/"))
        }
    }

    // MARK: - header

    @Test("a header condition stores its name lower-cased", arguments: ["X-Tenant", "x-tenant", "X-TENANT", "x-TeNaNt"])
    func headerNameLowercased(name: String) {
        #expect(HeaderCondition(name: name, value: "beta").name == "x-tenant")
        #expect(HeaderCondition(name: name, value: "Beta").value == "Beta")
    }

    @Test(
        "a header condition matches whatever the case of the name, on either side",
        arguments: ["X-Tenant", "x-tenant", "X-TENANT"]
    )
    func headerNameCaseInsensitive(requestName: String) {
        for conditionName in ["X-Tenant", "x-tenant", "X-TENANT"] {
            let match = RuleMatch(headers: [HeaderCondition(name: conditionName, value: "beta")])
            #expect(self.matches(match, path: "/", headers: [requestName: "beta"]), "\(conditionName) vs \(requestName)")
        }
    }

    @Test(
        "a header value compares exactly",
        arguments: [
            ("beta", true),
            ("Beta", false),
            ("BETA", false),
            ("beta ", false),
            (" beta", false),
            ("bet", false),
            ("betas", false),
            ("", false),
        ]
    )
    func headerValueExact(value: String, expected: Bool) {
        let match = RuleMatch(headers: [HeaderCondition(name: "X-Tenant", value: "beta")])
        #expect(self.matches(match, path: "/", headers: ["x-tenant": value]) == expected)
    }

    // Found by the rule-matcher fuzz target: String == is canonical equivalence,
    // so `cafe` + U+0301 matched a condition written `café`.
    @Test(
        "a header value compares byte for byte, not under canonical equivalence (regression: fuzz rule-matcher)",
        arguments: [
            ("caf\u{E9}", "cafe\u{301}", false),
            ("cafe\u{301}", "caf\u{E9}", false),
            ("caf\u{E9}", "caf\u{E9}", true),
        ]
    )
    func headerValueIsBytes(expected value: String, sent: String, matches: Bool) {
        let match = RuleMatch(headers: [HeaderCondition(name: "X-Tenant", value: value)])
        #expect(self.matches(match, path: "/", headers: ["X-Tenant": sent]) == matches)
    }

    @Test("a missing header does not match, not even an empty expected value")
    func headerMissing() {
        let beta = RuleMatch(headers: [HeaderCondition(name: "X-Tenant", value: "beta")])
        #expect(!self.matches(beta, path: "/"))
        #expect(!self.matches(beta, path: "/", headers: ["x-other": "beta"]))
        let empty = RuleMatch(headers: [HeaderCondition(name: "X-Flag", value: "")])
        #expect(!self.matches(empty, path: "/"))
        #expect(self.matches(empty, path: "/", headers: ["x-flag": ""]))
    }

    @Test("several header conditions must all hold")
    func severalHeaders() {
        let match = RuleMatch(headers: [HeaderCondition(name: "X-Tenant", value: "beta"), HeaderCondition(name: "X-Region", value: "eu")])
        #expect(self.matches(match, path: "/", headers: ["x-tenant": "beta", "x-region": "eu"]))
        #expect(!self.matches(match, path: "/", headers: ["x-tenant": "beta"]))
        #expect(!self.matches(match, path: "/", headers: ["x-region": "eu"]))
        #expect(!self.matches(match, path: "/", headers: ["x-tenant": "beta", "x-region": "us"]))
    }

    // MARK: - all conditions together

    /// Which condition of the full rule to break.
    enum Broken: String, CaseIterable, Sendable {
        case none, method, prefix, header, regex
    }

    @Test("every condition present must hold: breaking any one of them fails the match", arguments: Broken.allCases)
    func allConditionsRequired(broken: Broken) throws {
        let match = RuleMatch(
            pathPrefix: "/api",
            pathRegex: try PathRegex("/[0-9]+$"),
            methods: ["POST", "PUT"],
            headers: [HeaderCondition(name: "X-Tenant", value: "beta")]
        )
        let method = broken == .method ? "GET" : "PUT"
        let path: String
        switch broken {
        case .prefix: path = "/v2/api/orders/42"
        case .regex: path = "/api/orders/forty-two"
        case .none, .method, .header: path = "/api/orders/42"
        }
        let headers = broken == .header ? ["x-tenant": "alpha"] : ["x-tenant": "beta"]
        #expect(self.matches(match, method: method, path: path, headers: headers) == (broken == .none))
    }

    @Test("a match with no conditions matches every request")
    func emptyMatch() {
        #expect(self.matches(RuleMatch(), method: "DELETE", path: "/anything", headers: ["x": "y"]))
        #expect(self.matches(RuleMatch(), method: "GET", path: ""))
    }

    @Test("RuleMatch and RoutingRule compare by value")
    func equality() throws {
        let a = RoutingRule(name: "r", match: RuleMatch(pathPrefix: "/a", pathRegex: try PathRegex("x"), methods: ["GET"]), route: .primary)
        let b = RoutingRule(name: "r", match: RuleMatch(pathPrefix: "/a", pathRegex: try PathRegex("x"), methods: ["GET"]), route: .primary)
        #expect(a == b)
        var c = b
        c.route = .replica
        #expect(a != c)
        #expect(HeaderCondition(name: "X-A", value: "1") == HeaderCondition(name: "x-a", value: "1"))
        #expect(HeaderCondition(name: "X-A", value: "1") != HeaderCondition(name: "x-a", value: "2"))
    }
}
