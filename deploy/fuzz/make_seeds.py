#!/usr/bin/env python3
"""Writes the hand-made seed corpora under deploy/fuzz/corpus/TARGET/.

Run from anywhere: python3 deploy/fuzz/make_seeds.py. The files are
committed; this script documents where each comes from and regenerates
them (pin tokens are signed with the fuzz key of FuzzTargets.pinKey).
"""
import base64, hashlib, hmac, os, re, struct, shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
PIN_KEY = b"switchyard-fuzz-pin-key"      # FuzzTargets.pinKey
NOW = 1_800_000_000_000                  # FuzzTargets.pinNowMillis
TTL = 10_000                             # FuzzTargets.pinTTLMillis


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(issued, lsn=None, key=PIN_KEY):
    payload = bytes([1, 0 if lsn is None else 1]) + struct.pack(">Q", issued)
    if lsn is not None:
        payload += struct.pack(">Q", lsn)
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return b64(payload) + "." + b64(mac)


# ---- config-loader ---------------------------------------------------------
MINIMAL = """listen: 127.0.0.1:8080
primary:
  database: "host=127.0.0.1 dbname=app"
  servers: [127.0.0.1:8001]
replicas:
  - name: replica-a
    database: "host=127.0.0.1 port=5433 dbname=app"
    servers: [127.0.0.1:8011]
"""


def config_seeds():
    spec = open("/work/shared/SPEC.md").read() if os.path.exists("/work/shared/SPEC.md") else None
    if spec:
        match = re.search(r"```yaml\n(.*?)```", spec, re.S)
        write("config-loader", "spec-example.yaml", match.group(1))
    for name in ("production.yaml", "local.yaml"):
        shutil.copy(os.path.join(ROOT, "deploy/examples", name), os.path.join(CORPUS, "config-loader", "examples-" + name))
    write("config-loader", "minimal.yaml", MINIMAL)
    rules = MINIMAL + """routing:
  read_methods: [GET, HEAD, OPTIONS, PROPFIND]
  rules:
    - name: admin
      match: { path_prefix: /admin, methods: [GET, POST] }
      route: primary
    - name: reports
      match: { path_regex: "^/reports/[0-9]+(/csv)?$", header: { X-Consistency: strong } }
      route: replica
  on_no_replica: fail
  balance: least_connections
pin: { cookie: sy, mode: ttl, ttl: 1m30s, same_site: Strict, secure: yes, path: /app }
lag: { poll_interval: 250ms, max_lag: 5s, max_lag_bytes: 64MiB, readmit_below: 2s, readmit_after: 3, query_timeout: 1s, unreachable_after: 2 }
upstream:
  connect_timeout: 2s
  health_check: { path: /healthz, interval: 2s, timeout: 1s }
clients: { trusted_proxies: [10.0.0.0/8, "::1", "fd00::/8"], max_header_bytes: 32KiB, max_body_bytes: 1GiB }
admin: { listen: "[::1]:9090", token_env: ADMIN_TOKEN }
log: { level: debug, format: logfmt, decisions: off, decision_header: true }
"""
    write("config-loader", "rules-and-sections.yaml", rules)
    write("config-loader", "anchors-merge.yaml", """x-pool: &pool
  database: "host=db dbname=app"
  servers: [app1:8000, { address: "app2:8000", weight: 3 }]
listen: "[::]:8080"
primary:
  <<: *pool
replicas:
  - { <<: *pool, name: r1 }
  - <<: [*pool]
    name: r2
    servers: ["[fd00::1]:8000"]
""")
    errors = {
        "err-unknown-key.yaml": MINIMAL + "lisen: 1.2.3.4:80\nroutng: {}\n",
        "err-duplicate-key.yaml": MINIMAL + "listen: 127.0.0.1:9\n",
        "err-values.yaml": MINIMAL.replace("127.0.0.1:8080", "8080") + """drain_timeout: 10MB
clients: { max_body_bytes: 10MB, max_header_bytes: -1, trusted_proxies: [10.0.0.0/33, nope] }
lag: { poll_interval: 0, readmit_after: 1e3, max_lag: 5 }
pin: { mode: wal, same_site: lax, path: "no/slash;", secret_env: 9BAD }
log: { level: loud, decisions: maybe }
""",
        "err-routing.yaml": MINIMAL + """routing:
  read_methods: [GET, "BAD METHOD"]
  rules:
    - name: bad regex
      match: { path_regex: "(unclosed", path_prefix: nope }
      route: sideways
    - name: dup
      match: {}
      route: primary
    - name: dup
      match: { header: { "bad name": x, X-A: [1] }, methods: [] }
""",
        "err-pools.yaml": """listen: 127.0.0.1:80
primary: { database: "", servers: [] }
replicas:
  - { name: primary, database: x, servers: [a:0, "a:1", a:1, { address: b:2, weight: 0 }, [c:3]] }
  - { name: "bad name!", servers: x }
  - { name: r, database: "postgresql://u:secret@h/db" }
  - { name: r, database: {password: hunter2} }
admin: { listen: 127.0.0.1:80 }
""",
        "err-types.yaml": "listen: [1, 2]\nprimary: x\nreplicas: {a: 1}\nrouting: 3\npin: [a]\n",
        "err-syntax.yaml": "listen: 127.0.0.1:80\nprimary:\n  servers: [a:1\n  database: \"x\n",
        "err-tab.yaml": "listen: 127.0.0.1:80\n\tprimary: x\n",
        "err-alias.yaml": "listen: *nowhere\n",
        "err-merge.yaml": MINIMAL + "routing:\n  <<: [1, 2]\n  <<: x\n",
        "empty.yaml": "",
        "comment-only.yaml": "# nothing\n",
        "scalar.yaml": "just text\n",
        "document-markers.yaml": "---\n" + MINIMAL + "...\n---\nsecond: doc\n",
        "crlf.yaml": MINIMAL.replace("\n", "\r\n"),
        "unicode.yaml": MINIMAL.replace("replica-a", "réplica\u2028a") + "\u00e9t\u00e9: \u2603\n",
        "merge-fanout.yaml": """a: &a {x: 1, y: 2}
b: &b {<<: [*a, *a, *a, *a]}
c: &c {<<: [*b, *b, *b, *b]}
d: &d {<<: [*c, *c, *c, *c]}
routing:
  <<: [*d, *d, *d, *d]
""" + MINIMAL,
    }
    for name, text in errors.items():
        write("config-loader", name, text)


# ---- pin-token -------------------------------------------------------------
def pin_seeds():
    seeds = {
        "valid-ttl": token(NOW - 1000),
        "valid-lsn": token(NOW - 1000, 0x0000_0003_0000_0148),
        "expired": token(NOW - TTL),
        "future-ok": token(NOW + TTL),
        "future-too-far": token(NOW + TTL + 1),
        "forged": token(NOW, key=b"another key"),
        "bad-version": b64(bytes([2, 0]) + struct.pack(">Q", NOW)) + "." + b64(bytes(32)),
        "padded": token(NOW) + "=",
        "two-dots": token(NOW) + ".x",
        "no-dot": b64(b"\x01\x00" + struct.pack(">Q", NOW)),
        "empty": "",
        "garbage": "!!not.base64!!",
        "long": "A" * 100 + "." + "B" * 43,
        "nontrailing-bits": "AQ." + "B" * 43,
    }
    for name, value in seeds.items():
        write("pin-token", name, value)
    write("pin-token", "binary-header", bytes([1, 1]) + struct.pack(">QQ", NOW, 0x16B3748) + bytes([7, 200, 0x2E]))


# ---- cookie-header ---------------------------------------------------------
def cookie_seeds():
    valid = token(NOW - 500, 0x3000148)
    seeds = {
        "browser": f"_ga=GA1.2.12345.67890; theme=dark; switchyard_pin={valid}; session=abc%3D%3D",
        "only-pin": f"switchyard_pin={valid}",
        "quoted": f'switchyard_pin="{valid}"',
        "spaces-tabs": f"\t a=1 ;  switchyard_pin = x;switchyard_pin=  {valid}  ;",
        "expired-then-valid": f"switchyard_pin={token(NOW - TTL)}\nswitchyard_pin={valid}",
        "no-pin-two-headers": "a=b; c=d\ne=f",
        "empty-value": "switchyard_pin=; x=y",
        "lookalikes": "Switchyard_Pin=1; switchyard_pinx=2; xswitchyard_pin=3; switchyard_pin",
        "custom-name": f"name=sy\nsy=1; sy={valid}",
        "empty-name": "name=\n=abc; x=1",
        "unicode": "é=ü; switchyard_pin=\u00e9\u0301; ☃=x",
        "quotes-only": 'switchyard_pin="; switchyard_pin=""',
    }
    for name, value in seeds.items():
        write("cookie-header", name, value)


# ---- rule-matcher ----------------------------------------------------------
def rule_seeds():
    seeds = {
        "spec-rules": "rule\tprimary\tprefix=/admin\nrule\treplica\tmethods=POST\tprefix=/search\nrequest\tPOST\t/search/items\nreplica\t1\t0/3000000\nreplica\t0\n",
        "regex-header": "rule\treplica\tregex=^/reports/[0-9]+(/csv)?$\theader=X-Consistency:strong\nrequest\tGET\t/reports/12/csv\nheader\tx-consistency\tstrong\nreplica\t1\n",
        "pinned-lsn": "pin\tvalid\t0/3000148\nreplica\t1\t0/3000100\nreplica\t1\t0/3000148\nreplica\t0\t1/0\nrequest\tGET\t/items/7\n",
        "pinned-ttl": "mode\tttl\npin\tvalid\t0/1\nreplica\t1\t0/2\nrequest\tHEAD\t/\n",
        "write": "request\tDELETE\t/items/7\nreplica\t1\n",
        "no-replica-fail": "fail\nrequest\tGET\t/\nreplica\t0\nrule\treplica\tprefix=/r\n",
        "custom-read": "read\tGET,PROPFIND\nrequest\tPROPFIND\t/dav\nreplica\t1\npin\texpired\n",
        "unicode-path": "rule\tprimary\tprefix=/admin\nrule\tprimary\tprefix=/caf\u00e9\nrequest\tGET\t/admin\u0301/users\nreplica\t1\n",
        "header-unicode": "rule\tprimary\theader=x-a:caf\u00e9\nheader\tX-A\tcafe\u0301\nrequest\tGET\t/\nreplica\t1\n",
        "regex-special": "rule\tprimary\tregex=(a|b)*c{2,3}[[:digit:]]\\.$\nrule\treplica\tregex=[\nrequest\tGET\t/abacc1.\n",
        "many-replicas": "request\tGET\t/\n" + "replica\t0\n" * 63 + "replica\t1\n",
    }
    for name, value in seeds.items():
        write("rule-matcher", name, value)


# ---- forwarded-for ---------------------------------------------------------
def forwarded_seeds():
    seeds = {
        "untrusted": "peer\t203.0.113.9\nxff\t1.2.3.4\nproto\thttps\nhost\texample.com\n",
        "trusted-chain": "peer\t10.0.4.1\ntrusted\t10.0.0.0/8\nxff\t203.0.113.9, 10.0.4.7\nxff\t10.0.4.8\nproto\thttps\nxhost\tshop.example\nhost\tinternal\n",
        "spoofed-left": "peer\t10.0.4.1\ntrusted\t10.0.0.0/8\nxff\t1.1.1.1, 203.0.113.9, 10.9.9.9\n",
        "garbage-element": "peer\t10.0.4.1\ntrusted\t10.0.0.0/8\nxff\t203.0.113.9, unknown, 10.1.1.1\n",
        "all-trusted": "peer\t10.0.0.1\ntrusted\t10.0.0.0/8\nxff\t10.0.0.2,10.0.0.3\n",
        "ipv6": "peer\t::1\ntrusted\t::1/128\ntrusted\tfd00::/8\nxff\t2001:db8::1, fd00::5\n",
        "mapped": "peer\t::ffff:10.0.0.1\ntrusted\t10.0.0.0/8\nxff\t::ffff:192.0.2.1\n",
        "tabs-empty": "peer\t10.0.0.1\ntrusted\t0.0.0.0/0\nxff\t ,\t, 192.0.2.1 ,\n",
        "bad-cidrs": "peer\t10.0.0.1\ntrusted\t10.0.0.0/33\ntrusted\t10.0.0.0/\ntrusted\t::/0\nxff\t1.2.3.4\n",
    }
    for name, value in seeds.items():
        write("forwarded-for", name, value)


# ---- value-parsers ---------------------------------------------------------
def value_seeds():
    values = [
        "0/3000148", "FFFFFFFF/FFFFFFFF", "0/0", "1/ABCdef0", "127.0.0.1", "::1", "fe80::1%eth0", "::ffff:1.2.3.4",
        "10.0.0.0/8", "::/0", "2001:db8::/129", "127.0.0.1:8080", "[::1]:9090", "app.internal:80", "host:65536",
        "250ms", "1m30s", "1.5s", "0", "2562047h", "1.0000000001s", "16KiB", "10MiB", "1GiB", "18446744073709551615",
        "17179869184GiB", "10MB",
    ]
    for index, value in enumerate(values):
        write("value-parsers", f"v{index:02d}", value)


# ---- header-hygiene --------------------------------------------------------
def header_seeds():
    seeds = {
        "request": "Host: example.com\nConnection: keep-alive, X-Secret\nKeep-Alive: timeout=5\nX-Secret: 1\nTE: trailers\nUpgrade: websocket\nProxy-Authorization: Basic x\nX-Switchyard-Pin: force\nAccept: */*\n",
        "response": "Content-Type: text/plain\nTransfer-Encoding: chunked\nTrailer: Expires\nX-Switchyard-LSN: 0/3000148\nSet-Cookie: a=b\nconnection: close\n",
        "case-and-lists": "CONNECTION: Foo ,BAR\nconnection: ,, baz\nfoo: 1\nBar: 2\nBAZ: 3\nqux: 4\n",
        "tabs": "Connection: keep-alive,\tX-Internal\nX-Internal: secret\n",
        "nothing-to-do": "Host: a\nAccept: b\nContent-Length: 3\n",
        "proxy-prefixes": "Proxy-Connection: keep-alive\nproxy-x: 1\nProxyfoo: 2\nX-Switchyard: 3\nx-switchyard-: 4\n",
    }
    for name, value in seeds.items():
        write("header-hygiene", name, value)


# ---- upstream-response -----------------------------------------------------
def upstream(response, head=False, close=False, cut=0x80):
    """A flags byte (ASCII 0-3: bit 0 a HEAD request, bit 1 the app closes
    after the bytes), a byte for where to cut the rest in two (byte x
    length / 255), then what the app server sends."""
    flags = (1 if head else 0) | (2 if close else 0)
    return bytes([0x30 + flags, cut]) + response.encode("latin-1")


def upstream_seeds():
    seeds = {
        "content-length": upstream("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
                                   "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-App: r1\r\n\r\nhello world"),
        "chunked-extensions-trailers": upstream(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nX-App: p1\r\n\r\n"
            "5\r\nhello\r\n6;name=value\r\n world\r\na ; q=\"x\"\r\n, and more\r\n0;last\r\nX-Checksum: 42\r\nX-More: 1\r\n\r\n",
            cut=0x60),
        "until-close": upstream("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>no length: the body ends at close</p>", close=True),
        "http10-keep-alive": upstream("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", cut=0x30),
        "head": upstream("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: \"abc\"\r\n\r\n", head=True, close=True),
        "204-with-framing": upstream("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"),
        "304": upstream("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\nCache-Control: max-age=60\r\n\r\n", close=True),
        "interim-100-103-then-201": upstream(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            "HTTP/1.1 201 Created\r\nLocation: /items/7\r\nContent-Length: 2\r\n\r\nok", cut=0x20),
        "connection-listed": upstream(
            "HTTP/1.1 200 OK\r\nX-Secret: 1\r\nConnection: X-Secret ,\tx-other, close\r\nX-Other: 2\r\nX-Public: 3\r\n"
            "Upgrade: h2c\r\nTE: trailers\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"),
        "switchyard-headers": upstream(
            "HTTP/1.1 200 OK\r\nX-Switchyard-Pin: FORCE\r\nX-Switchyard-LSN:  0/3000148 \r\nx-switchyard-other: y\r\n"
            "X-Switchyardish: kept\r\nContent-Length: 3\r\n\r\nabc", cut=0xF0),
        "bare-lf": upstream("HTTP/1.1 200 OK\nA: 1\r\nB: 2\nContent-Length: 2\n\nokHTTP/1.1 200 OK\n\n", cut=0x50),
        "obs-text-reason": upstream("HTTP/1.1 404 Nicht gefunden \xe4\xf6\r\nX-Caf\xe9: ok\r\nX-Value: caf\xe9\xff\r\nContent-Length: 1\r\n\r\n!"),
        "err-both-framings": upstream("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        "err-folded-header": upstream("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
        "err-bad-chunk": upstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n"),
        "err-101": upstream("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        "err-truncated": upstream("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", close=True),
        "err-status-line": upstream("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"),
    }
    for name, value in seeds.items():
        write("upstream-response", name, value)


# ---- client-request ----------------------------------------------------------
def client(request, trusted=False, small_limit=False, piece=13, cut=0x80):
    """A flags byte (bit 0 the client is a trusted proxy, bit 1 a 512-byte
    head limit instead of 32 KiB, bits 2-7 a piece size minus one: ASCII
    '0'-'3' are pieces of 13 bytes), a byte for where to cut the rest in two
    (byte x length / 255), then what the client sends."""
    flags = ((piece - 1) << 2) | (1 if trusted else 0) | (2 if small_limit else 0)
    data = request if isinstance(request, bytes) else request.encode("latin-1")
    return bytes([flags, cut]) + data


# The transfer-encoding spellings of Tests/ReliabilityTests/HostileCorpus.swift
# (TE.TE): name, header lines, valid alone.
TRANSFER_ENCODINGS = [
    ("plain", ["Transfer-Encoding: chunked"], True),
    ("upper-case-value", ["Transfer-Encoding: CHUNKED"], True),
    ("tab-before-value", ["Transfer-Encoding:\tchunked"], True),
    ("space-before-colon", ["Transfer-Encoding : chunked"], False),
    ("xchunked", ["Transfer-Encoding: xchunked"], False),
    ("chunked-then-x", ["Transfer-Encoding: chunked", "Transfer-Encoding: x"], False),
    ("x-then-chunked", ["Transfer-Encoding: x", "Transfer-Encoding: chunked"], False),
    ("chunked-identity", ["Transfer-Encoding: chunked, identity"], False),
    ("identity-chunked", ["Transfer-Encoding: identity, chunked"], False),
    ("chunked-twice", ["Transfer-Encoding: chunked, chunked"], False),
    ("quoted", ["Transfer-Encoding: \"chunked\""], False),
    ("obs-fold-before", ["X-Fold: a", " Transfer-Encoding: chunked"], False),
    ("obs-fold-value", ["Transfer-Encoding:", " chunked"], False),
    ("vertical-tab", ["Transfer-Encoding: chunked\x0b"], False),
    ("form-feed", ["Transfer-Encoding:\x0cchunked"], False),
    ("trailing-junk", ["Transfer-Encoding: chunked;q=1"], False),
    ("bare-lf-inside", ["X-Bare: a\nTransfer-Encoding: chunked"], False),
    ("name-with-nul", ["Transfer-Encoding\x00: chunked"], False),
    ("underscore-name", ["Transfer_Encoding: chunked"], True),
]


def smuggled(index):
    return "GET /smuggled-%d HTTP/1.1\r\nHost: t\r\n\r\n" % index


def hostile_seeds():
    """HostileCorpus.smuggling() and .malformedHeads(), shape for shape (the
    40 KiB heads shortened to 1 KiB under the 512-byte limit)."""
    seeds = {}
    index = 0

    def add(name, head, body, **flags):
        seeds["hostile-" + name] = client("\r\n".join(head) + "\r\n\r\n" + body, **flags)

    for name, lines, _valid_alone in TRANSFER_ENCODINGS:
        index += 1
        body = "0\r\n\r\n" + smuggled(index)
        add("cl-te-" + name, ["POST /evil-%d HTTP/1.1" % index, "Host: t", "Content-Length: %d" % len(body)] + lines, body)
        index += 1
        inner = smuggled(index)
        size = "%x" % len(inner)
        add("te-cl-" + name, ["POST /evil-%d HTTP/1.1" % index, "Host: t"] + lines + ["Content-Length: %d" % (len(size) + 2)],
            "%s\r\n%s\r\n0\r\n\r\n" % (size, inner))
        index += 1
        inner = smuggled(index)
        add("te-alone-" + name, ["POST /evil-%d HTTP/1.1" % index, "Host: t"] + lines, "%x\r\n%s\r\n0\r\n\r\n" % (len(inner), inner))
    lengths = [
        ("two-differing", ["Content-Length: 5", "Content-Length: 6"]),
        ("list-differing", ["Content-Length: 5, 6"]),
        ("plus-sign", ["Content-Length: +5"]),
        ("negative", ["Content-Length: -5"]),
        ("hex", ["Content-Length: 0x5"]),
        ("space-inside", ["Content-Length: 5 5"]),
        ("exponent", ["Content-Length: 5e0"]),
        ("overflow", ["Content-Length: 184467440737095516170"]),
        ("space-before-colon", ["Content-Length : 5"]),
        ("obs-fold", ["Content-Length:", " 5"]),
    ]
    for name, lines in lengths:
        index += 1
        add("cl-" + name, ["POST /evil-%d HTTP/1.1" % index, "Host: t"] + lines, "hello" + smuggled(index))
    chunks = [
        ("size-with-0x", "0x5\r\nhello\r\n0\r\n\r\n"),
        ("size-with-plus", "+5\r\nhello\r\n0\r\n\r\n"),
        ("size-with-space-inside", "5 5\r\nhello\r\n0\r\n\r\n"),
        ("size-overflow", "10000000000000005\r\nhello\r\n0\r\n\r\n"),
        ("bare-lf-after-size", "5\nhello\r\n0\r\n\r\n"),
        ("data-longer-than-size", "3\r\nhello\r\n0\r\n\r\n"),
        ("no-crlf-after-data", "5\r\nhelloX0\r\n\r\n"),
        ("bad-extension", "5;\x01\r\nhello\r\n0\r\n\r\n"),
    ]
    for name, framing in chunks:
        index += 1
        add("chunk-" + name, ["POST /evil-%d HTTP/1.1" % index, "Host: t", "Transfer-Encoding: chunked"], framing + smuggled(index))
    index += 1
    add("http10-chunked", ["POST /evil-%d HTTP/1.0" % index, "Host: t", "Transfer-Encoding: chunked", "Content-Length: 5"],
        "0\r\n\r\n" + smuggled(index))
    for method in ["POST", "GET", "DELETE"]:
        index += 1
        body = smuggled(index)
        add("connection-lists-content-length-" + method.lower(),
            ["%s /evil-%d HTTP/1.1" % (method, index), "Host: t", "Connection: Content-Length", "Content-Length: %d" % len(body)], body)
    long = "a" * 1024
    malformed = [
        ("version-9.9", "GET /evil-m2 HTTP/9.9\r\nHost: t\r\n\r\n"),
        ("version-garbage", "GET /evil-m3 HTTQ/1.1\r\nHost: t\r\n\r\n"),
        ("nul-in-path", "GET /evil-m4\x00 HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("control-in-method", "G\x01T /evil-m5 HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("header-without-colon", "GET /evil-m6 HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n"),
        ("space-in-header-name", "GET /evil-m7 HTTP/1.1\r\nHost: t\r\nBad Name: v\r\n\r\n"),
        ("binary-garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03evil-m10\r\n\r\n"),
        ("http2-preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        ("cr-line-endings", "GET /evil-m12 HTTP/1.1\rHost: t\r\r"),
        ("nul-in-header-value", "GET /evil-m13 HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n"),
        ("missing-method", " /evil-m14 HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("lf-in-request-line", "GET /evil-m15\nHTTP/1.1\r\nHost: t\r\n\r\n"),
    ]
    for name, text in malformed:
        seeds["hostile-" + name] = client(text)
    seeds["hostile-head-over-limit"] = client("GET /evil-m8 HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n" % long, small_limit=True)
    seeds["hostile-uri-over-limit"] = client("GET /evil-m9?%s HTTP/1.1\r\nHost: t\r\n\r\n" % long, small_limit=True)
    seeds["hostile-too-many-headers"] = client(
        "GET /evil-m16 HTTP/1.1\r\nHost: t\r\n" + "".join("X-%d: value-1234\r\n" % n for n in range(40)) + "\r\n", small_limit=True)
    return seeds


def client_seeds():
    seeds = {
        "get": client("GET /products/42?ref=home HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
                      "Cookie: theme=dark; sy_pin=abc.def\r\n\r\n"),
        "post-length": client("POST /orders?id=1 HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n"
                              "Content-Length: 27\r\n\r\n{\"item\": 42, \"quantity\": 1}", cut=0x70),
        "put-length-repeated": client("PUT /items/7 HTTP/1.1\r\nhost: a\r\nContent-Length: 5\r\ncontent-length:  5 \r\n\r\nhello", piece=3),
        "post-empty": client("POST /ping HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
        "post-without-length": client("POST /form HTTP/1.1\r\nHost: a\r\n\r\n"),
        "chunked-extensions-trailers": client(
            "POST /upload HTTP/1.1\r\nHost: up.example\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
            "5\r\nhello\r\n6;name=value\r\n world\r\nA ; q=\"x\"\r\n, and more\r\n0;last\r\nX-Checksum: 42\r\nX-More: 1\r\n\r\n",
            piece=7, cut=0x60),
        "chunked-then-get": client(
            "PATCH /doc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n000\r\n\r\n"
            "GET /next HTTP/1.1\r\nHost: a\r\n\r\n", piece=5),
        "pipelined": client(
            "GET /a HTTP/1.1\r\nHost: a\r\n\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            "\r\n\r\nDELETE /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", cut=0x40),
        "http10": client("GET / HTTP/1.0\r\n\r\n"),
        "http10-keep-alive-host": client("POST /x HTTP/1.0\r\nHost: old.example\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"),
        "hop-by-hop": client(
            "GET /h HTTP/1.1\r\nHost: a\r\nConnection: X-Secret ,\tx-other, keep-alive, host\r\nX-Secret: 1\r\nX-Other: 2\r\n"
            "Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X\r\nUpgrade: h2c\r\nProxy-Authorization: Basic eA==\r\n"
            "Proxy-Connection: keep-alive\r\nX-Switchyard-Pin: force\r\nX-Switchyardish: kept\r\nX_Underscore: 1\r\n"
            "X-Public: 3\r\n\r\n"),
        "forwarded-trusted": client(
            "GET /f HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 198.51.100.1, 10.0.0.2\r\nX-Forwarded-For: 192.0.2.9\r\n"
            "X-Forwarded-Proto: https\r\nX-Forwarded-Host: public.example\r\nX-Real-IP: 1.2.3.4\r\nX-Forwarded-Port: 443\r\n\r\n",
            trusted=True),
        "forwarded-untrusted": client(
            "GET /f HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 198.51.100.1\r\nx-real-ip: 1.2.3.4\r\n\r\n"),
        "expect-continue": client(
            "PUT /big HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\ndata"),
        "obs-text-values": client("GET /caf%C3%A9 HTTP/1.1\r\nHost: caf\xe9.example\r\nX-Value: caf\xe9\xff\t \r\nX-Empty:\r\n\r\n"),
        "absolute-form-options": client("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\nGET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n"),
        "err-connect": client("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"),
        "err-no-host": client("GET / HTTP/1.1\r\n\r\n"),
        "err-two-hosts": client("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        "err-truncated-body": client("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhalf"),
    }
    seeds.update(hostile_seeds())
    for name, value in seeds.items():
        write("client-request", name, value)


if __name__ == "__main__":
    config_seeds(); pin_seeds(); cookie_seeds(); rule_seeds(); forwarded_seeds(); value_seeds(); header_seeds()
    upstream_seeds(); client_seeds()
    for target in sorted(os.listdir(CORPUS)):
        print(target, len(os.listdir(os.path.join(CORPUS, target))))
