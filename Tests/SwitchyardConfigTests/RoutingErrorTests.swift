import SwitchyardConfig
import SwitchyardCore
import Testing

/// Rules appended to the minimal file: `routing:` is line 9, `rules:` line 10,
/// the first rule starts on line 11.
@Suite("Errors: routing rules")
struct RoutingErrorTests {
    static func problems(rules: String) -> [String] {
        Fixtures.problems(appending: "routing:\n  rules:\n" + rules)
    }

    @Test func ruleMustBeAMapping() {
        #expect(
            RoutingErrorTests.problems(rules: "    - admin-on-primary\n")
                == ["test.yaml:11:7: routing.rules[0] must be a mapping, found 'admin-on-primary'"]
        )
    }

    @Test func ruleNeedsNameMatchAndRoute() {
        #expect(
            RoutingErrorTests.problems(rules: "    - {}\n")
                == [
                    "test.yaml:11:7: missing required key 'name' in routing.rules[0]",
                    "test.yaml:11:7: missing required key 'match' in routing.rules[0]",
                    "test.yaml:11:7: missing required key 'route' in routing.rules[0]",
                ]
        )
    }

    @Test func badRoute() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { path_prefix: /a }, route: replicas }\n")
                == ["test.yaml:11:53: routing.rules[0].route must be one of primary, replica, found 'replicas'"]
        )
    }

    @Test func ruleNameMustMatchThePattern() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: \"a b\", match: { path_prefix: /a }, route: primary }\n")
                == ["test.yaml:11:15: routing.rules[0].name must match [A-Za-z0-9_.-]+, found 'a b'"]
        )
    }

    @Test func duplicateRuleName() {
        #expect(
            RoutingErrorTests.problems(
                rules: """
                        - name: a
                          match: { path_prefix: /a }
                          route: primary
                        - name: a
                          match: { path_prefix: /b }
                          route: replica

                    """
            ) == ["test.yaml:14:13: duplicate rule name 'a' (first used at line 11, column 13)"]
        )
    }

    @Test func emptyMatch() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: {}, route: primary }\n")
                == ["test.yaml:11:25: routing.rules[0].match must have at least one condition (path_prefix, path_regex, methods or header)"]
        )
        #expect(
            RoutingErrorTests.problems(rules: "    - name: a\n      match:\n      route: primary\n")
                == ["test.yaml:12:7: routing.rules[0].match must have at least one condition (path_prefix, path_regex, methods or header)"]
        )
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { header: {} }, route: primary }\n")
                == ["test.yaml:11:25: routing.rules[0].match must have at least one condition (path_prefix, path_regex, methods or header)"]
        )
    }

    @Test func pathPrefixMustStartWithASlash() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { path_prefix: admin }, route: primary }\n")
                == ["test.yaml:11:40: routing.rules[0].match.path_prefix must start with '/', found 'admin'"]
        )
    }

    // Regression (fuzz): regcomp would take every byte of memory it can get for this.
    @Test func pathRegexThatRepeatsTooMuch() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { path_regex: \"(a{1000}){1000}\" }, route: primary }\n")
                == [
                    "test.yaml:11:39: routing.rules[0].match.path_regex is not a valid regular expression (it repeats too much: more than 10000 atoms once its {m,n} bounds are written out), found '(a{1000}){1000}'"
                ]
        )
    }

    @Test func pathRegexWithABackReference() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { path_regex: '^/(a)\\1' }, route: primary }\n")
                == [
                    #"test.yaml:11:39: routing.rules[0].match.path_regex is not a valid regular expression (back-references (\1 to \9) are not POSIX extended syntax, and matching them can take exponential time), found '^/(a)\1'"#
                ]
        )
    }

    @Test func badPathRegex() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { path_regex: \"^/(a\" }, route: primary }\n")
                == [#"test.yaml:11:39: routing.rules[0].match.path_regex is not a valid regular expression (Unmatched ( or \(), found '^/(a'"#]
        )
    }

    @Test func methodsMustNotBeEmpty() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { methods: [] }, route: primary }\n")
                == ["test.yaml:11:36: routing.rules[0].match.methods must list at least one method"]
        )
    }

    @Test func methodsMustBeTokens() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { methods: [POST, \"P(T\"] }, route: primary }\n")
                == ["test.yaml:11:43: routing.rules[0].match.methods[1] must be an HTTP method such as GET, found 'P(T'"]
        )
    }

    @Test func headerNameMustBeAToken() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { header: { \"X Tenant\": beta } }, route: primary }\n")
                == ["test.yaml:11:37: routing.rules[0].match.header has an invalid header name 'X Tenant'"]
        )
    }

    @Test func duplicateHeaderName() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { header: { X-A: one, x-a: two } }, route: primary }\n")
                == ["test.yaml:11:47: duplicate header 'x-a' in routing.rules[0].match.header (first at line 11, column 37; names ignore case)"]
        )
    }

    @Test func headerValueMustBeAString() {
        #expect(
            RoutingErrorTests.problems(rules: "    - { name: a, match: { header: { X-A: [one] } }, route: primary }\n")
                == ["test.yaml:11:42: routing.rules[0].match.header.X-A must be a string, found a list"]
        )
    }

    @Test func methodsAreUpperCased() throws {
        let config = try #require(
            Fixtures.parse(Fixtures.minimal + "routing:\n  read_methods: [get, Head]\n  rules:\n    - { name: a, match: { methods: [post] }, route: replica }\n")
        )
        #expect(config.routing.readMethods == ["GET", "HEAD"])
        #expect(config.routing.rules.first?.match.methods == ["POST"])
    }
}
