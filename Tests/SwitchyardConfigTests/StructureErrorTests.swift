import SwitchyardConfig
import SwitchyardCore
import Testing

/// Problems with the shape of the file: YAML syntax, kinds of nodes, keys.
@Suite("Errors: file structure")
struct StructureErrorTests {
    @Test func yamlSyntaxErrorIsOnePositionedProblem() {
        let yaml = """
            listen: 127.0.0.1:8080
            primary:
              database: host=db
                servers: []

            """
        #expect(Fixtures.problems(yaml) == ["test.yaml:4:12: invalid YAML: mapping values are not allowed in this context"])
    }

    @Test func yamlSyntaxErrorWithContext() {
        let yaml = "listen: [127.0.0.1:8080\nprimary: {}\n"
        #expect(
            Fixtures.problems(yaml) == [
                "test.yaml:2:8: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 9)"
            ]
        )
    }

    // Found by the config-loader fuzz target (deploy/fuzz/regressions/config-loader/):
    // libyaml puts an error at the end of the stream on the line after the last one
    // when the file does not end with a line break, a line that is not in the file.
    @Test func syntaxErrorAtTheEndOfAFileWithoutFinalLineBreakIsOnItsLastLine() {
        #expect(
            Fixtures.problems("listen: 127.0.0.1:8080\nprimary: [a:1")
                == ["test.yaml:2:14: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 10)"]
        )
        #expect(
            Fixtures.problems("listen: 127.0.0.1:8080\r\nprimary: {a: 1")
                == ["test.yaml:2:15: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 2, column 10)"]
        )
    }

    @Test func moreThanOneDocument() {
        #expect(
            Fixtures.problems(Fixtures.minimal + "---\nlisten: 127.0.0.1:8081\n")
                == ["test.yaml:9:1: invalid YAML: but found another document (expected a single document in the stream at line 1, column 1)"]
        )
    }

    @Test func undefinedAlias() {
        #expect(Fixtures.problems(appending: "log: *defaults\n") == ["test.yaml:9:6: invalid YAML: found undefined alias"])
    }

    @Test func controlCharacterIsAReaderError() {
        let yaml = "listen: 127.0.0.1:8080\nprimary: \u{07}\n"
        #expect(Fixtures.problems(yaml) == ["test.yaml:2:10: invalid YAML: control characters are not allowed"])
    }

    @Test func duplicateKey() {
        let yaml = Fixtures.minimal + "listen: 127.0.0.1:9999\n"
        #expect(Fixtures.problems(yaml) == ["test.yaml:1:1: duplicate key 'listen': a key may appear only once in a mapping"])
    }

    @Test func severalDuplicateKeysInOneMapping() {
        // Yams stops at the first such mapping and points at the first occurrence of the first key in sorted order.
        let yaml = Fixtures.minimal + "log:\n  level: info\n  format: json\n  level: debug\n  format: logfmt\n"
        #expect(Fixtures.problems(yaml) == ["test.yaml:11:3: duplicate keys 'format', 'level': a key may appear only once in a mapping"])
    }

    @Test func emptyFile() {
        #expect(Fixtures.problems("") == ["test.yaml: the file is empty (it needs at least listen, primary and replicas)"])
        #expect(Fixtures.problems("# only a comment\n") == ["test.yaml: the file is empty (it needs at least listen, primary and replicas)"])
    }

    @Test func topLevelMustBeAMapping() {
        #expect(Fixtures.problems("- listen\n") == ["test.yaml:1:1: the top level must be a mapping, found a list"])
        #expect(Fixtures.problems("hello\n") == ["test.yaml:1:1: the top level must be a mapping, found 'hello'"])
    }

    @Test func unknownKeyWithSuggestion() {
        let yaml = """
            lsiten: 127.0.0.1:8080
            primary: { database: host=db, servers: [127.0.0.1:8001] }
            replicas: [{ name: a, database: host=db2, servers: [127.0.0.1:8011] }]

            """
        #expect(
            Fixtures.problems(yaml) == [
                "test.yaml:1:1: unknown key 'lsiten' in top level; did you mean 'listen'?",
                "test.yaml:1:1: missing required key 'listen' in top level",
            ]
        )
    }

    @Test func suggestionsForCommonSlips() {
        #expect(
            Fixtures.problems(appending: "drain-timeout: 5s\nLOG: {}\nupstream: { retires: 1 }\n")
                == [
                    "test.yaml:9:1: unknown key 'drain-timeout' in top level; did you mean 'drain_timeout'?",
                    "test.yaml:10:1: unknown key 'LOG' in top level; did you mean 'log'?",
                    "test.yaml:11:13: unknown key 'retires' in upstream; did you mean 'retries'?",
                ]
        )
    }

    @Test func unknownKeyWithoutSuggestion() {
        #expect(Fixtures.problems(appending: "frobnicate: 1\n") == ["test.yaml:9:1: unknown key 'frobnicate' in top level"])
    }

    @Test func unknownNestedKey() {
        #expect(
            Fixtures.problems(appending: "lag:\n  max_lags: 5s\n")
                == ["test.yaml:10:3: unknown key 'max_lags' in lag; did you mean 'max_lag'?"]
        )
        #expect(
            Fixtures.problems(appending: "upstream:\n  health_check:\n    intervall: 2s\n")
                == ["test.yaml:11:5: unknown key 'intervall' in upstream.health_check; did you mean 'interval'?"]
        )
        #expect(
            Fixtures.problems(appending: "routing:\n  rules:\n    - name: x\n      route: primary\n      match: { path: /a }\n")
                == [
                    "test.yaml:13:14: routing.rules[0].match must have at least one condition (path_prefix, path_regex, methods or header)",
                    "test.yaml:13:16: unknown key 'path' in routing.rules[0].match",
                ]
        )
    }

    @Test func unknownKeyThatLooksLikeAConnectionStringIsNotShown() {
        #expect(
            Fixtures.problems(appending: "\"host=db password=s3cret\": 1\n")
                == ["test.yaml:9:1: unknown key in top level (not shown: it looks like a connection string)"]
        )
    }

    @Test func keysMustBePlainNames() {
        #expect(Fixtures.problems(appending: "? [a, b]\n: 1\n") == ["test.yaml:9:3: keys must be plain names, found a list"])
        #expect(
            Fixtures.problems(appending: "log: {? {a: 1} : x, [b]: y}\n")
                == ["test.yaml:9:9: keys must be plain names, found a mapping", "test.yaml:9:21: keys must be plain names, found a list"]
        )
    }

    // Found by the config-loader fuzz target (deploy/fuzz/regressions/config-loader/alias-key-*):
    // Yams hashes every key to find duplicates, walking an aliased node in full each
    // time; a key *a9 over ten-fold nested aliases was 10^9 nodes (depth 6: 1.8 s).
    @Test func anAliasInAKeyIsRefusedBeforeComposing() {
        var yaml = "a0: &a0 [x]\n"
        for depth in 1...9 {
            yaml += "a\(depth): &a\(depth) [" + Array(repeating: "*a\(depth - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect(Fixtures.problems(appending: yaml + "k: {*a9 : 1}\n") == ["test.yaml:19:5: keys must be plain names, found an alias"])
        #expect(Fixtures.problems(appending: yaml + "? [b, {c: *a9}]\n: 1\n") == ["test.yaml:19:3: keys must be plain names, found a list"])
        #expect(Fixtures.problems(appending: "x: &k a\n*k : 1\n") == ["test.yaml:10:1: keys must be plain names, found an alias"])
    }

    // Found by the config-loader fuzz target (deploy/fuzz/regressions/config-loader/duplicate-complex-keys):
    // Yams sorted the duplicates of two equal mapping keys with an order that does not
    // compare a mapping with a string, so the problem's position and text changed from
    // one run to the next.
    @Test func repeatedComplexKeysGiveTheSameProblemsEveryTime() {
        let yaml = "\n? primary:\n  database: x\nreplicas:\n? primary:\n  database: x\nreplicas:\n"
        let first = Fixtures.problems(yaml)
        #expect(first == ["test.yaml:2:3: keys must be plain names, found a mapping", "test.yaml:5:3: keys must be plain names, found a mapping"])
        for _ in 0..<20 {
            #expect(Fixtures.problems(yaml) == first)
        }
    }

    @Test func mergeKeyMustMergeMappings() {
        #expect(
            Fixtures.problems(appending: "log:\n  <<: 5\n")
                == ["test.yaml:10:7: '<<' in log must merge a mapping or a list of mappings, found '5'"]
        )
    }

    // Found while writing the config-loader seeds (deploy/fuzz/regressions/config-loader/merge-bomb.yaml):
    // aliases share nodes, so merge keys nested 16 deep, each merging ten aliases of
    // the level below, asked for 10^16 merges from 1.3 KB of YAML (depth 5 already took
    // 1.6 s, each level ten times more). The merge budget ends it with one problem.
    @Test func mergeKeysCannotMultiplyWithoutBound() {
        var yaml = "a0: &a0 {x: 1}\n"
        for depth in 1...16 {
            let aliases = Array(repeating: "*a\(depth - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(depth): &a\(depth) {<<: [\(aliases)]}\n"
        }
        yaml += "routing:\n  <<: [" + Array(repeating: "*a16", count: 10).joined(separator: ", ") + "]\n"
        let problems = Fixtures.problems(Fixtures.minimal + yaml)
        #expect(
            problems.contains(
                "test.yaml:27:3: '<<' in routing merges more than 10000 entries in all (aliases merged again and again?)"
            ),
            "\(problems)"
        )
    }

    @Test func mergeKeysWithinTheBudgetStillMerge() {
        var yaml = Fixtures.minimal + "routing:\n  <<: [&base {on_no_replica: fail}, "
        yaml += Array(repeating: "*base", count: 100).joined(separator: ", ") + "]\n"
        #expect(Fixtures.parse(yaml)?.routing.onNoReplica == .fail)
    }

    // Found while sizing hostile configurations for the fuzzing of issue #7:
    // key lookups and the de-duplication of problems were linear searches, so a
    // 200 KB file of 20,000 unknown keys took 19.5 s to check (40,000: over 120 s).
    @Test func manyUnknownKeysAreEachReportedOnceInFileOrder() {
        let yaml = Fixtures.minimal + (0..<20_000).map { "k\($0): 1\n" }.joined()
        let problems = Fixtures.problems(yaml)
        #expect(problems.count == 20_000)
        #expect(problems.first == "test.yaml:9:1: unknown key 'k0' in top level")
        #expect(problems.last == "test.yaml:20008:1: unknown key 'k19999' in top level")
    }

    @Test func missingRequiredTopLevelKeys() {
        let yaml = "log: { level: info }\n"
        #expect(
            Fixtures.problems(yaml) == [
                "test.yaml:1:1: missing required key 'listen' in top level",
                "test.yaml:1:1: missing required key 'primary' in top level",
                "test.yaml:1:1: missing required key 'replicas' in top level",
            ]
        )
    }

    @Test func missingRequiredNestedKey() {
        let yaml = """
            listen: 127.0.0.1:8080
            primary:
              servers: [127.0.0.1:8001]
            replicas:
              - database: host=db2
                servers: [127.0.0.1:8011]

            """
        #expect(
            Fixtures.problems(yaml) == [
                "test.yaml:3:3: missing required key 'database' in primary",
                "test.yaml:5:5: missing required key 'name' in replicas[0]",
            ]
        )
    }

    @Test func sectionMustBeAMapping() {
        #expect(Fixtures.problems(appending: "log: [info]\n") == ["test.yaml:9:6: log must be a mapping, found a list"])
        #expect(Fixtures.problems(appending: "pin: lsn\n") == ["test.yaml:9:6: pin must be a mapping, found 'lsn'"])
    }

    @Test func listMustBeAList() {
        let yaml = """
            listen: 127.0.0.1:8080
            primary: { database: host=db, servers: [127.0.0.1:8001] }
            replicas:
              replica-a: { database: host=db2, servers: [127.0.0.1:8011] }

            """
        #expect(Fixtures.problems(yaml) == ["test.yaml:4:3: replicas must be a list, found a mapping"])
    }

    @Test func valueMustBeAString() {
        let yaml = """
            listen: 127.0.0.1:8080
            primary: { database: host=db, servers: [127.0.0.1:8001] }
            replicas:
              - { name: [a], database: host=db2, servers: [127.0.0.1:8011] }

            """
        #expect(Fixtures.problems(yaml) == ["test.yaml:4:13: replicas[0].name must be a string, found a list"])
    }

    @Test func nullWhereAValueIsNeeded() {
        #expect(
            Fixtures.problems(appending: "drain_timeout:\n")
                == ["test.yaml:9:1: drain_timeout must be a duration such as 250ms, 2s or 1m, found no value"]
        )
    }
}
