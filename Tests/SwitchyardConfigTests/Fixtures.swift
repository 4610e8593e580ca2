import SwitchyardConfig
import SwitchyardCore
import Testing

/// Shared YAML texts and helpers.
enum Fixtures {
    /// The file name used in every message of these tests.
    static let file = "test.yaml"

    /// The example of SPEC §2, verbatim (comments included).
    static let specExample = #"""
listen: 0.0.0.0:8080
drain_timeout: 30s            # on SIGTERM, how long requests in flight may take to finish

admin:                        # omit the section to disable the admin listener
  listen: 127.0.0.1:9090
  token_env: SWITCHYARD_ADMIN_TOKEN   # when set, every admin request but /healthz needs "Authorization: Bearer <token>" (else 401);
                                      # naming a variable that is unset is a start-up error

log:
  level: info                 # trace | debug | info | notice | warning | error
  format: json                # json | logfmt
  decisions: true             # one line per proxied request (section 5), whatever the level
  decision_header: false      # add X-Switchyard-Decision to responses (debugging; leaks topology)

primary:
  database: "host=127.0.0.1 port=5432 dbname=app user=switchyard_monitor"   # libpq conninfo or postgresql:// URI;
                              # passwords as libpq finds them (~/.pgpass, PGPASSFILE) or inline; never logged
  servers:                    # in every pool: "host:port" or { address, weight }
    - 127.0.0.1:8001
    - { address: 127.0.0.1:8002, weight: 2 }

replicas:
  - name: replica-a           # unique, [A-Za-z0-9_-]+
    database: "postgresql://switchyard_monitor@127.0.0.1:5433/app"
    servers: [127.0.0.1:8011, 127.0.0.1:8012]

routing:
  read_methods: [GET, HEAD, OPTIONS]  # everything else is a write
  rules:                      # first match wins, checked before the method split
    - name: admin-on-primary
      match: { path_prefix: /admin }           # also: path_regex, methods: [..], header: { NAME: VALUE }
      route: primary                           # primary | replica
    - name: search-is-a-read
      match: { methods: [POST], path_prefix: /search }
      route: replica
  on_no_replica: primary      # primary | fail  (fail answers 503)
  balance: round_robin        # round_robin | least_connections  (weights apply to both)

pin:
  cookie: switchyard_pin
  mode: lsn                   # lsn | ttl  (section 3)
  ttl: 10s                    # the cookie's Max-Age; no pin outlives it
  secret_env: SWITCHYARD_PIN_SECRET   # HMAC-SHA256 key shared by every instance; if unset, a random key per process and a warning
  same_site: Lax              # Strict | Lax | None
  secure: false
  path: /

lag:
  poll_interval: 500ms
  max_lag: 5s                 # out of rotation at or above this replay lag
  max_lag_bytes: 64MiB        # ... or at or above this many bytes behind the primary (0 = no byte limit)
  readmit_below: 2s           # back in rotation once under this ...
  readmit_after: 3            # ... for this many consecutive polls
  query_timeout: 1s           # bounds connect + query of one poll
  unreachable_after: 2        # consecutive failed polls before a replica is out as unreachable

upstream:
  connect_timeout: 2s
  response_timeout: 60s       # until the response head arrives
  idle_timeout: 60s           # an idle pooled upstream connection is closed after this
  retries: 2                  # further servers tried (section 4)
  max_fails: 1                # consecutive failures that take a server out ...
  fail_timeout: 10s           # ... for this long
  keepalive: 64               # idle connections kept per server
  health_check:               # optional active check
    path: /healthz
    interval: 2s
    timeout: 1s

clients:
  trusted_proxies: []         # CIDRs whose X-Forwarded-For / X-Forwarded-Proto are kept and extended
  max_header_bytes: 32KiB     # 431 past this
  max_body_bytes: 10MiB       # 413 past this
  header_timeout: 10s         # a request head must arrive within this (slow clients are cut off)
  idle_timeout: 60s           # idle client keep-alive connections closed after this
  max_connections: 10000      # past this, new connections wait in the listen backlog
"""#

    /// The smallest valid file: 8 lines, so text appended to it starts on line 9.
    static let minimal = """
        listen: 127.0.0.1:8080
        primary:
          database: "host=db1 dbname=app"
          servers: [127.0.0.1:8001]
        replicas:
          - name: replica-a
            database: "host=db2 dbname=app"
            servers: [127.0.0.1:8011]

        """

    /// Parses `yaml`, expecting success.
    static func parse(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> SwitchyardConfiguration? {
        do {
            return try ConfigLoader.parse(yaml: yaml, file: Fixtures.file)
        } catch {
            Issue.record("expected a valid configuration, got:\n\(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Every problem `yaml` produces, as `check` prints them; empty when valid.
    static func problems(_ yaml: String) -> [String] {
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: Fixtures.file)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    /// The problems of `Fixtures.minimal` followed by `extra` (which starts on line 9).
    static func problems(appending extra: String) -> [String] {
        Fixtures.problems(Fixtures.minimal + extra)
    }
}
