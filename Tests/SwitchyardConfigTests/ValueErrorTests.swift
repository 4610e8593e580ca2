import SwitchyardConfig
import SwitchyardCore
import Testing

/// One message per kind of bad value. `Fixtures.minimal` has 8 lines, so
/// an appended `SECTION:\n  KEY: VALUE` puts VALUE on line 10, column 5 + KEY's length.
@Suite("Errors: values")
struct ValueErrorTests {
    /// `section:\n  key: value\n` appended to the minimal file.
    static func problems(_ section: String, _ key: String, _ value: String) -> [String] {
        Fixtures.problems(appending: "\(section):\n  \(key): \(value)\n")
    }

    /// Column of the value in `  key: value`.
    static func column(_ key: String) -> Int { key.count + 5 }

    @Test func badDuration() {
        #expect(
            Fixtures.problems(appending: "drain_timeout: 30 s\n")
                == ["test.yaml:9:16: drain_timeout must be a duration such as 250ms, 2s or 1m, found '30 s'"]
        )
        #expect(
            ValueErrorTests.problems("lag", "poll_interval", "500")
                == ["test.yaml:10:18: lag.poll_interval must be a duration such as 250ms, 2s or 1m, found '500'"]
        )
    }

    @Test(arguments: [
        ("lag", "poll_interval"), ("lag", "max_lag"), ("lag", "readmit_below"), ("lag", "query_timeout"),
        ("upstream", "connect_timeout"), ("upstream", "response_timeout"), ("upstream", "idle_timeout"),
        ("upstream", "fail_timeout"), ("pin", "ttl"), ("clients", "header_timeout"), ("clients", "idle_timeout"),
    ])
    func zeroDuration(section: String, key: String) {
        #expect(
            ValueErrorTests.problems(section, key, "0s")
                == ["test.yaml:10:\(ValueErrorTests.column(key)): \(section).\(key) must be a duration greater than 0, found '0s'"]
        )
    }

    @Test func zeroHealthCheckDurations() {
        #expect(
            Fixtures.problems(appending: "upstream:\n  health_check:\n    interval: 0\n    timeout: 0ms\n")
                == [
                    "test.yaml:11:15: upstream.health_check.interval must be a duration greater than 0, found '0'",
                    "test.yaml:12:14: upstream.health_check.timeout must be a duration greater than 0, found '0ms'",
                ]
        )
    }

    @Test(arguments: ["0", "1025", "many", "2.5", "-1", "[2]"])
    func badEventLoops(value: String) {
        let found = value == "[2]" ? "a list" : "'\(value)'"
        #expect(
            Fixtures.problems(appending: "event_loops: \(value)\n")
                == ["test.yaml:9:14: event_loops must be auto or an integer from 1 to 1024, found \(found)"]
        )
    }

    @Test func badSize() {
        #expect(
            ValueErrorTests.problems("lag", "max_lag_bytes", "64MB")
                == ["test.yaml:10:18: lag.max_lag_bytes must be a size such as 512, 16KiB, 10MiB or 1GiB, found '64MB'"]
        )
    }

    @Test func maxHeaderBytesOutOfRange() {
        #expect(
            ValueErrorTests.problems("clients", "max_header_bytes", "512")
                == ["test.yaml:10:21: clients.max_header_bytes must be between 1KiB and 1MiB, found '512'"]
        )
        #expect(
            ValueErrorTests.problems("clients", "max_header_bytes", "2MiB")
                == ["test.yaml:10:21: clients.max_header_bytes must be between 1KiB and 1MiB, found '2MiB'"]
        )
        #expect(ValueErrorTests.problems("clients", "max_header_bytes", "1KiB") == [])
    }

    @Test func maxBodyBytesZero() {
        #expect(
            ValueErrorTests.problems("clients", "max_body_bytes", "0")
                == ["test.yaml:10:19: clients.max_body_bytes must be greater than 0, found '0'"]
        )
    }

    @Test func maxBodyBytesTooLarge() {
        #expect(
            ValueErrorTests.problems("clients", "max_body_bytes", "9223372036854775808")
                == ["test.yaml:10:19: clients.max_body_bytes is too large, found '9223372036854775808'"]
        )
    }

    @Test(arguments: [
        ("lag", "readmit_after", "0", ">= 1"), ("lag", "unreachable_after", "0", ">= 1"),
        ("upstream", "retries", "-1", ">= 0"), ("upstream", "max_fails", "0", ">= 1"),
        ("upstream", "keepalive", "-1", ">= 0"), ("clients", "max_connections", "0", ">= 1"),
        ("upstream", "retries", "two", ">= 0"), ("upstream", "keepalive", "1.5", ">= 0"),
        ("clients", "max_connections", "99999999999999999999", ">= 1"),
    ])
    func badCount(section: String, key: String, value: String, range: String) {
        #expect(
            ValueErrorTests.problems(section, key, value)
                == ["test.yaml:10:\(ValueErrorTests.column(key)): \(section).\(key) must be an integer \(range), found '\(value)'"]
        )
    }

    @Test func badBool() {
        #expect(
            ValueErrorTests.problems("log", "decisions", "maybe")
                == ["test.yaml:10:14: log.decisions must be true or false, found 'maybe'"]
        )
    }

    @Test func badListenAddress() {
        let yaml = Fixtures.minimal.replacing("listen: 127.0.0.1:8080", with: "listen: localhost")
        #expect(Fixtures.problems(yaml) == ["test.yaml:1:9: listen must be an address host:port or [v6]:port, found 'localhost'"])
        let v6 = Fixtures.minimal.replacing("listen: 127.0.0.1:8080", with: "listen: ::1:8080")
        #expect(Fixtures.problems(v6) == ["test.yaml:1:9: listen must be an address host:port or [v6]:port, found '::1:8080'"])
    }

    @Test(arguments: [
        ("log", "level", "verbose", "trace, debug, info, notice, warning, error"),
        ("log", "format", "JSON", "json, logfmt"),
        ("routing", "on_no_replica", "replica", "primary, fail"),
        ("routing", "balance", "random", "round_robin, least_connections"),
        ("pin", "mode", "time", "lsn, ttl"),
        ("pin", "same_site", "Loose", "Strict, Lax, None"),
    ])
    func badChoice(section: String, key: String, value: String, choices: String) {
        #expect(
            ValueErrorTests.problems(section, key, value)
                == ["test.yaml:10:\(ValueErrorTests.column(key)): \(section).\(key) must be one of \(choices), found '\(value)'"]
        )
    }

    @Test func badEnvironmentVariableName() {
        #expect(
            ValueErrorTests.problems("pin", "secret_env", "pin-secret")
                == ["test.yaml:10:15: pin.secret_env must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*), found 'pin-secret'"]
        )
        #expect(
            ValueErrorTests.problems("admin", "token_env", "1TOKEN")
                == ["test.yaml:10:14: admin.token_env must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*), found '1TOKEN'"]
        )
    }

    @Test func badMethod() {
        #expect(
            Fixtures.problems(appending: "routing:\n  read_methods: [GET, \"GE T\", HEAD]\n")
                == ["test.yaml:10:23: routing.read_methods[1] must be an HTTP method such as GET, found 'GE T'"]
        )
    }

    @Test func emptyReadMethodsIsAllowed() throws {
        let config = try #require(Fixtures.parse(Fixtures.minimal + "routing:\n  read_methods: []\n"))
        #expect(config.routing.readMethods.isEmpty)
    }

    @Test func badTrustedProxy() {
        #expect(
            Fixtures.problems(appending: "clients:\n  trusted_proxies: [10.0.0.0/8, 10.0.0.0/33]\n")
                == ["test.yaml:10:33: clients.trusted_proxies[1] must be an address or CIDR block such as 10.0.0.0/8 or ::1/128, found '10.0.0.0/33'"]
        )
    }
}
