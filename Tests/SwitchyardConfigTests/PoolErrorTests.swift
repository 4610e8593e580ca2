import SwitchyardConfig
import SwitchyardCore
import Testing

@Suite("Errors: primary, replicas, servers")
struct PoolErrorTests {
    /// A valid file whose replica section is `replicas`, which starts on line 5.
    static func withReplicas(_ replicas: String) -> [String] {
        Fixtures.problems(
            """
            listen: 127.0.0.1:8080
            primary:
              database: host=db1
              servers: [127.0.0.1:8001]

            """ + replicas
        )
    }

    @Test func databaseMustBeANonEmptyString() {
        let yaml = """
            listen: 127.0.0.1:8080
            primary:
              database: ""
              servers: [127.0.0.1:8001]
            replicas:
              - { name: a, database: { host: db2, password: s3cret }, servers: [127.0.0.1:8011] }

            """
        #expect(
            Fixtures.problems(yaml) == [
                "test.yaml:3:13: primary.database must be a non-empty string",
                "test.yaml:6:26: replicas[0].database must be a non-empty string",
            ]
        )
    }

    @Test func primaryServersMustNotBeEmpty() {
        let yaml = """
            listen: 127.0.0.1:8080
            primary:
              database: host=db1
              servers: []
            replicas:
              - { name: a, database: host=db2, servers: [127.0.0.1:8011] }

            """
        #expect(Fixtures.problems(yaml) == ["test.yaml:4:12: primary.servers must list at least one server"])
    }

    @Test func replicaServersMustNotBeEmpty() {
        #expect(
            PoolErrorTests.withReplicas("replicas:\n  - name: a\n    database: host=db2\n    servers:\n")
                == ["test.yaml:8:5: replicas[0].servers must list at least one server"]
        )
    }

    @Test func replicasMustNotBeEmpty() {
        #expect(PoolErrorTests.withReplicas("replicas: []\n") == ["test.yaml:5:11: replicas must list at least one replica"])
    }

    // Found by the config-loader fuzz target's invariant (deploy/fuzz/regressions/config-loader/65-replicas.yaml):
    // 65 replicas were accepted, but RequestRouter keeps the usable replicas in a
    // 64-bit ReplicaSet, so the 65th never took a read (with only it usable, reads
    // fell back to the primary as if no replica were there).
    @Test func atMost64Replicas() {
        func replicas(_ count: Int) -> String {
            "replicas:\n" + (0..<count).map { "  - { name: r\($0), database: host=db, servers: [127.0.0.1:\(9000 + $0)] }\n" }.joined()
        }
        #expect(Self.withReplicas(replicas(64)) == [])
        #expect(Self.withReplicas(replicas(65)) == ["test.yaml:6:3: replicas must list at most 64 replicas, found 65"])
    }

    @Test func serverEntryOfTheWrongKind() {
        #expect(
            PoolErrorTests.withReplicas("replicas:\n  - { name: a, database: host=db2, servers: [[127.0.0.1:8011]] }\n")
                == ["test.yaml:6:46: replicas[0].servers[0] must be an address host:port or a mapping with address and weight, found a list"]
        )
    }

    @Test func serverAddressMustBeValid() {
        #expect(
            PoolErrorTests.withReplicas("replicas:\n  - { name: a, database: host=db2, servers: [127.0.0.1] }\n")
                == ["test.yaml:6:46: replicas[0].servers[0] must be an address host:port or [v6]:port, found '127.0.0.1'"]
        )
    }

    @Test func serverPortMustNotBeZero() {
        #expect(
            PoolErrorTests.withReplicas("replicas:\n  - name: a\n    database: host=db2\n    servers:\n      - address: 127.0.0.1:0\n")
                == ["test.yaml:9:18: replicas[0].servers[0].address must have a port from 1 to 65535, found '127.0.0.1:0'"]
        )
    }

    @Test func serverMappingNeedsAnAddress() {
        #expect(
            PoolErrorTests.withReplicas("replicas:\n  - name: a\n    database: host=db2\n    servers: [{ weight: 2 }]\n")
                == ["test.yaml:8:15: missing required key 'address' in replicas[0].servers[0]"]
        )
    }

    @Test func unknownKeyInServerMapping() {
        #expect(
            PoolErrorTests.withReplicas("replicas:\n  - name: a\n    database: host=db2\n    servers: [{ address: 127.0.0.1:8011, wieght: 2 }]\n")
                == ["test.yaml:8:42: unknown key 'wieght' in replicas[0].servers[0]; did you mean 'weight'?"]
        )
    }

    @Test(arguments: ["0", "1001", "-3", "heavy"])
    func weightOutOfRange(weight: String) {
        #expect(
            PoolErrorTests.withReplicas("replicas:\n  - name: a\n    database: host=db2\n    servers:\n      - { address: 127.0.0.1:8011, weight: \(weight) }\n")
                == ["test.yaml:9:44: replicas[0].servers[0].weight must be an integer from 1 to 1000, found '\(weight)'"]
        )
    }

    @Test func duplicateServerInAPool() {
        #expect(
            PoolErrorTests.withReplicas(
                "replicas:\n  - name: a\n    database: host=db2\n    servers:\n      - 127.0.0.1:8011\n      - { address: 127.0.0.1:8011, weight: 3 }\n"
            ) == ["test.yaml:10:20: duplicate server 127.0.0.1:8011 in replicas[0].servers (first listed at line 9, column 9)"]
        )
    }

    @Test func sameServerInTwoPoolsIsAllowed() {
        #expect(PoolErrorTests.withReplicas("replicas:\n  - { name: a, database: host=db2, servers: [127.0.0.1:8001] }\n") == [])
    }

    @Test func replicaNameMustMatchThePattern() {
        #expect(
            PoolErrorTests.withReplicas("replicas:\n  - { name: replica a, database: host=db2, servers: [127.0.0.1:8011] }\n")
                == ["test.yaml:6:13: replicas[0].name must match [A-Za-z0-9_-]+, found 'replica a'"]
        )
    }

    @Test func replicaNamePrimaryIsReserved() {
        #expect(
            PoolErrorTests.withReplicas("replicas:\n  - { name: primary, database: host=db2, servers: [127.0.0.1:8011] }\n")
                == ["test.yaml:6:13: replicas[0].name must not be 'primary' (the name of the primary pool in metrics and logs)"]
        )
    }

    @Test func duplicateReplicaName() {
        #expect(
            PoolErrorTests.withReplicas(
                "replicas:\n  - { name: r1, database: host=db2, servers: [127.0.0.1:8011] }\n  - { name: r1, database: host=db3, servers: [127.0.0.1:8021] }\n"
            ) == ["test.yaml:7:13: duplicate replica name 'r1' (first used at line 6, column 13)"]
        )
    }
}
