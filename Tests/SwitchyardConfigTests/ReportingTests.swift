import SwitchyardConfig
import SwitchyardCore
import Testing

@Suite("Reporting: formats, many problems, secrets")
struct ReportingTests {
    @Test func problemDescriptions() {
        #expect(ConfigProblem(file: "a.yaml", line: 3, column: 7, message: "bad").description == "a.yaml:3:7: bad")
        #expect(ConfigProblem(file: "a.yaml", message: "cannot read: No such file or directory").description == "a.yaml: cannot read: No such file or directory")
        let errors = ConfigErrors(problems: [
            ConfigProblem(file: "a.yaml", line: 1, column: 1, message: "one"),
            ConfigProblem(file: "a.yaml", line: 2, column: 5, message: "two"),
        ])
        #expect(errors.description == "a.yaml:1:1: one\na.yaml:2:5: two")
    }

    @Test func everyProblemIsReportedSortedByPosition() {
        let yaml = """
            listen: 127.0.0.1
            drain_timeout: soon
            log:
              level: verbose
              colour: true
            primary:
              database: ""
              servers: []
            replicas:
              - name: "bad name"
                database: host=db2
                servers: [{ address: 127.0.0.1:8011, weight: 0 }]
              - name: b
                database: host=db3
                servers: [127.0.0.1:8021]
            pin:
              ttl: 0s
              same_site: None
            lag:
              max_lag: 1s
            upstream:
              retries: -1
            clients:
              max_header_bytes: 10MiB
            lsiten: 1

            """
        let problems = Fixtures.problems(yaml)
        #expect(
            problems == [
                "test.yaml:1:9: listen must be an address host:port or [v6]:port, found '127.0.0.1'",
                "test.yaml:2:16: drain_timeout must be a duration such as 250ms, 2s or 1m, found 'soon'",
                "test.yaml:4:10: log.level must be one of trace, debug, info, notice, warning, error, found 'verbose'",
                "test.yaml:5:3: unknown key 'colour' in log",
                "test.yaml:7:13: primary.database must be a non-empty string",
                "test.yaml:8:12: primary.servers must list at least one server",
                "test.yaml:10:11: replicas[0].name must match [A-Za-z0-9_-]+, found 'bad name'",
                "test.yaml:12:50: replicas[0].servers[0].weight must be an integer from 1 to 1000, found '0'",
                "test.yaml:17:8: pin.ttl must be a duration greater than 0, found '0s'",
                "test.yaml:18:14: pin.same_site None requires pin.secure: true (browsers reject SameSite=None cookies without Secure)",
                "test.yaml:20:12: lag.max_lag (1s) must not be below lag.readmit_below (2s, the default)",
                "test.yaml:22:12: upstream.retries must be an integer >= 0, found '-1'",
                "test.yaml:24:21: clients.max_header_bytes must be between 1KiB and 1MiB, found '10MiB'",
                "test.yaml:25:1: unknown key 'lsiten' in top level; did you mean 'listen'?",
            ]
        )
    }

    @Test func thrownErrorCarriesStructuredProblems() {
        do {
            _ = try ConfigLoader.parse(yaml: Fixtures.minimal + "pin: { ttl: 0 }\n", file: "conf/s.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems == [ConfigProblem(file: "conf/s.yaml", line: 9, column: 13, message: "pin.ttl must be a duration greater than 0, found '0'")])
        }
    }

    @Test func aliasedNodeReportedOnce() {
        let yaml = """
            listen: 127.0.0.1:8080
            primary:
              database: host=db1
              servers: &pool [127.0.0.1:0]
            replicas:
              - { name: a, database: host=db2, servers: *pool }

            """
        #expect(
            Fixtures.problems(yaml) == [
                "test.yaml:4:19: primary.servers[0] must have a port from 1 to 65535, found '127.0.0.1:0'",
                "test.yaml:4:19: replicas[0].servers[0] must have a port from 1 to 65535, found '127.0.0.1:0'",
            ]
        )
    }

    /// A password in a conninfo or URI never reaches a message, wherever
    /// the string is put by mistake.
    @Test(arguments: [
        // Valid places, other problems around them.
        "listen: x\nprimary:\n  database: \"host=db password=s3cret\"\n  servers: []\nreplicas:\n  - { name: \"?\", database: \"postgresql://u:s3cret@db/app\", servers: [a] }\n",
        // Wrong kinds of node in the database keys.
        "listen: x\nprimary:\n  database: { password: s3cret }\n  servers: [1]\nreplicas:\n  - { name: a, database: [\"password=s3cret\"], servers: [1] }\n",
        // The connection string where an address, a name or a key is expected.
        "listen: \"postgresql://u:s3cret@db:5432/app\"\nprimary:\n  database: x\n  servers: [\"postgresql://u:s3cret@db:5432/app\"]\nreplicas:\n  - { name: \"host=db password=s3cret\", database: x, servers: [\"host=db password=s3cret\"] }\n",
        "listen: 1:1\nprimary:\n  database: x\n  \"host=db password=s3cret\": 1\n  servers: [1:1]\nreplicas: [{ name: a, database: x, servers: [\"u:s3cret@h:1\"] }]\n",
        "listen: 1:1\nprimary: { database: x, servers: [1:1] }\nreplicas: [{ name: a, database: x, servers: [1:2] }]\npin: { cookie: \"password s3cret\", secret_env: \"PASSWORD=s3cret\" }\nlog: { level: \"Password: s3cret\" }\n",
        // A syntax error on the line that holds the password.
        "listen: 1:1\nprimary:\n  database: \"host=db password=s3cret\n  servers: [1:1]\n",
        "listen: 1:1\nprimary:\n  database: host=db password=s3cret: x\n",
        "listen: 1:1\nprimary:\n  database: host=db\n  database: password=s3cret\n",
    ])
    func passwordsNeverAppearInMessages(yaml: String) {
        let problems = Fixtures.problems(yaml)
        #expect(!problems.isEmpty)
        for problem in problems {
            #expect(!problem.contains("s3cret"), "leaked: \(problem)")
        }
    }
}
