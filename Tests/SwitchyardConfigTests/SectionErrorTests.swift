import SwitchyardConfig
import SwitchyardCore
import Testing

@Suite("Errors: admin, pin, lag, upstream")
struct SectionErrorTests {
    @Test func pinCookieMustBeAToken() {
        #expect(
            Fixtures.problems(appending: "pin:\n  cookie: \"my pin\"\n")
                == ["test.yaml:10:11: pin.cookie must be a cookie name (an HTTP token, no spaces or separators), found 'my pin'"]
        )
        #expect(
            Fixtures.problems(appending: "pin:\n  cookie: \"a;b\"\n")
                == ["test.yaml:10:11: pin.cookie must be a cookie name (an HTTP token, no spaces or separators), found 'a;b'"]
        )
    }

    @Test func pinPathMustStartWithASlash() {
        #expect(Fixtures.problems(appending: "pin:\n  path: app\n") == ["test.yaml:10:9: pin.path must start with '/', found 'app'"])
    }

    @Test func pinPathMustNotBreakTheCookie() {
        #expect(
            Fixtures.problems(appending: "pin:\n  path: \"/a; Domain=evil\"\n")
                == ["test.yaml:10:9: pin.path must not contain spaces, ';' or control characters, found a value that looks like a connection string (not shown)"]
        )
        #expect(
            Fixtures.problems(appending: "pin:\n  path: \"/a;b\"\n")
                == ["test.yaml:10:9: pin.path must not contain spaces, ';' or control characters, found '/a;b'"]
        )
    }

    @Test func sameSiteNoneNeedsSecure() {
        #expect(
            Fixtures.problems(appending: "pin:\n  same_site: None\n")
                == ["test.yaml:10:14: pin.same_site None requires pin.secure: true (browsers reject SameSite=None cookies without Secure)"]
        )
        #expect(
            Fixtures.problems(appending: "pin:\n  same_site: None\n  secure: false\n")
                == ["test.yaml:10:14: pin.same_site None requires pin.secure: true (browsers reject SameSite=None cookies without Secure)"]
        )
        #expect(Fixtures.problems(appending: "pin:\n  same_site: None\n  secure: true\n") == [])
    }

    @Test func readmitBelowMustNotExceedMaxLag() {
        #expect(
            Fixtures.problems(appending: "lag:\n  max_lag: 2s\n  readmit_below: 3s\n")
                == ["test.yaml:11:18: lag.readmit_below (3s) must not exceed lag.max_lag (2s)"]
        )
        #expect(
            Fixtures.problems(appending: "lag:\n  readmit_below: 6s\n")
                == ["test.yaml:10:18: lag.readmit_below (6s) must not exceed lag.max_lag (5s, the default)"]
        )
        #expect(Fixtures.problems(appending: "lag:\n  max_lag: 2s\n  readmit_below: 2000ms\n") == [])
    }

    @Test func maxLagMustNotBeBelowTheDefaultReadmitBelow() {
        #expect(
            Fixtures.problems(appending: "lag:\n  max_lag: 1s\n")
                == ["test.yaml:10:12: lag.max_lag (1s) must not be below lag.readmit_below (2s, the default)"]
        )
    }

    @Test func healthCheckPathMustStartWithASlash() {
        #expect(
            Fixtures.problems(appending: "upstream:\n  health_check:\n    path: healthz\n")
                == ["test.yaml:11:11: upstream.health_check.path must start with '/', found 'healthz'"]
        )
    }

    @Test func healthCheckPathMustNotHoldSpaces() {
        #expect(
            Fixtures.problems(appending: "upstream:\n  health_check:\n    path: \"/health z\"\n")
                == ["test.yaml:11:11: upstream.health_check.path must not contain spaces, ';' or control characters, found '/health z'"]
        )
    }

    @Test func adminListenMustNotClashWithListen() {
        #expect(
            Fixtures.problems(appending: "admin:\n  listen: 127.0.0.1:8080\n")
                == ["test.yaml:10:11: admin.listen 127.0.0.1:8080 conflicts with listen 127.0.0.1:8080"]
        )
        #expect(
            Fixtures.problems(appending: "admin:\n  listen: 0.0.0.0:8080\n")
                == ["test.yaml:10:11: admin.listen 0.0.0.0:8080 conflicts with listen 127.0.0.1:8080"]
        )
        #expect(Fixtures.problems(appending: "admin:\n  listen: 127.0.0.2:8080\n") == [])
    }

    @Test func adminDefaultListenClashingWithListenPointsAtListen() {
        let yaml = Fixtures.minimal.replacing("listen: 127.0.0.1:8080", with: "listen: 0.0.0.0:9090") + "admin: {}\n"
        #expect(Fixtures.problems(yaml) == ["test.yaml:1:9: admin.listen 127.0.0.1:9090 conflicts with listen 0.0.0.0:9090"])
    }
}
