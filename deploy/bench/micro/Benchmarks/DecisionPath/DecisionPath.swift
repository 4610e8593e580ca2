// Micro-benchmarks of the per-request decision path: what ProxyServerHandler
// does for every request before it touches an upstream connection.
//
// Every benchmark runs its body `scalingFactor` (1,000) times per measured
// iteration; the tables show time and allocations per single call (the rows
// marked `*`; do not pass `--scale`, which shows them per 1,000 calls).
//
// The topology matches deploy/bench/switchyard.yaml: two primary servers, one
// replica (`replica-a`) with two servers, no rules, `pin.mode: ttl`, ttl 10 s.
// Benchmarks whose name starts with "handler:" call what ProxyServerHandler
// calls (CookieHeader, ProxySnapshot.withReplicaAvailability) or copy a line
// of its private code (the path split); keep them in step with
// Sources/HTTPProxy/ProxyServerHandler.swift.

import Benchmark
import HTTPProxy
import Logging
import NIOCore
import NIOHTTP1
import SwitchyardCore
import SwitchyardLogging

// MARK: - Fixtures

private func server(_ port: Int, weight: Int = 1) -> UpstreamServer {
    UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: port), weight: weight)
}

private let configuration = SwitchyardConfiguration(
    listen: ServerAddress(host: "127.0.0.1", port: 21080),
    log: LogConfiguration(decisions: true),
    primary: PrimaryConfiguration(database: "host=127.0.0.1 port=21432", servers: [server(21001), server(21002)]),
    replicas: [
        ReplicaConfiguration(name: "replica-a", database: "host=127.0.0.1 port=21433", servers: [server(21011), server(21012)])
    ],
    pin: PinConfiguration(mode: .ttl, ttl: .seconds(10))
)

private let pinKey: [UInt8] = Array(0..<32)

/// The three kinds of rule condition, none of which matches the benchmark requests.
private let rules: [RoutingRule] = {
    let regex = try! PathRegex("^/reports/[0-9]+/export$")
    return [
        RoutingRule(name: "admin-on-primary", match: RuleMatch(pathPrefix: "/admin"), route: .primary),
        RoutingRule(
            name: "search-is-a-read",
            match: RuleMatch(methods: ["POST"], headers: [HeaderCondition(name: "X-Search", value: "1")]),
            route: .replica),
        RoutingRule(name: "exports", match: RuleMatch(pathRegex: regex), route: .primary),
    ]
}()

private func makeRuntime() -> ProxyRuntime {
    ProxyRuntime(
        configuration: configuration,
        pinKey: pinKey,
        decisionSink: MemoryLogSink(),
        logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
    )
}

/// A copy of ProxyServerHandler.pathWithoutQuery (internal there).
@inline(never)
private func pathWithoutQuery(_ uri: String) -> String {
    if let question = uri.firstIndex(of: "?") {
        return String(uri[..<question])
    }
    return uri
}

/// HeaderHygiene.equalsIgnoringCase(name, "cookie") (internal to HTTPProxy; the same loop).
private func isCookieName(_ name: String) -> Bool {
    let target: StaticString = "cookie"
    let utf8 = name.utf8
    guard utf8.count == target.utf8CodeUnitCount else { return false }
    return target.withUTF8Buffer { expected in
        var index = utf8.startIndex
        for byte in expected {
            let actual = utf8[index]
            let folded = actual >= UInt8(ascii: "A") && actual <= UInt8(ascii: "Z") ? actual | 0x20 : actual
            if folded != byte { return false }
            utf8.formIndex(after: &index)
        }
        return true
    }
}

/// What ProxyServerHandler.pinStatus does (private there): the real
/// CookieHeader scan, verified through the event loop's PinVerificationCache.
@inline(never)
private func pinStatus(_ headers: HTTPHeaders, snapshot: ProxySnapshot, cache: inout PinVerificationCache) -> PinStatus {
    let name = snapshot.configuration.pin.cookie
    for header in headers where isCookieName(header.name) {
        if let value = CookieHeader.value(named: name, in: header.value[...]) {
            return cache.verify(value, signer: snapshot.signer, nowMillis: WallClock.nowMillis(), ttlMillis: snapshot.ttlMillis)
        }
    }
    return .none
}

/// The servers a request was already sent to (HTTPProxy's TriedServers keeps
/// the first inline like this; it is internal there).
private typealias Tried = ObjectIdentifier?

/// LoopContext.pickReplica's balancer call (the class is internal there).
@inline(never)
private func pickReplica(_ balancer: inout Balancer, snapshot: ProxySnapshot, replicas: ReplicaSet, now: UInt64, tried: Tried)
    -> Int?
{
    let servers = snapshot.flatReplicaServers
    return balancer.pick(
        active: { servers[$0].server.active },
        isEligible: {
            replicas.contains(servers[$0].replica) && servers[$0].server.isUp(now: now)
                && tried != ObjectIdentifier(servers[$0].server)
        }
    )
}

/// LoopContext.pickPrimary's balancer call.
@inline(never)
private func pickPrimary(_ balancer: inout Balancer, snapshot: ProxySnapshot, now: UInt64, tried: Tried) -> Int? {
    let servers = snapshot.primaryServers
    return balancer.pick(
        active: { servers[$0].active },
        isEligible: { servers[$0].isUp(now: now) && tried != ObjectIdentifier(servers[$0]) }
    )
}

private func headers(_ pairs: [(String, String)]) -> HTTPHeaders {
    HTTPHeaders(pairs)
}

private let plainHeaders = headers([("host", "127.0.0.1:21080"), ("user-agent", "wrk"), ("accept", "*/*")])

// MARK: - Benchmarks

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 2_000
    )

    let runtime = makeRuntime()
    let snapshot = runtime.snapshot
    let router = snapshot.router
    let ruledRouter = RequestRouter(configuration: RoutingConfiguration(rules: rules), pinMode: .ttl)
    let signer = snapshot.signer
    let ttl = snapshot.ttlMillis
    let bothUp = [ReplicaAvailability(usable: true)]
    let noHeader: (String) -> String? = { _ in nil }
    let now = WallClock.nowMillis()
    let validCookie = signer.sign(PinToken(issuedAtMillis: now))
    let forgedCookie = String(validCookie.dropLast(2)) + (validCookie.hasSuffix("AA") ? "BB" : "AA")
    let pinnedHeaders = headers([
        ("host", "127.0.0.1:21080"), ("user-agent", "wrk"),
        ("cookie", "theme=dark; switchyard_pin=\(validCookie); _ga=GA1.2.3"),
    ])
    let nioNow: () -> UInt64 = { NIODeadline.now().uptimeNanoseconds }

    // -- Classification and routing --------------------------------------------

    Benchmark("classify: isRead(GET)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(router.isRead(method: "GET"))
        }
    }

    Benchmark("classify: path without query") { benchmark in
        let uri = "/items/7?fields=name,price"
        for _ in benchmark.scaledIterations {
            blackHole(pathWithoutQuery(uri))
        }
    }

    Benchmark("decide: GET, no pin (read)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(router.decide(method: "GET", path: "/items/7", header: noHeader, pin: .none, replicas: bothUp))
        }
    }

    Benchmark("decide: POST (write)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(router.decide(method: "POST", path: "/items", header: noHeader, pin: .none, replicas: bothUp))
        }
    }

    Benchmark("decide: GET, valid pin (pinned)") { benchmark in
        let pin = PinStatus.valid(PinToken(issuedAtMillis: now))
        for _ in benchmark.scaledIterations {
            blackHole(router.decide(method: "GET", path: "/items/7", header: noHeader, pin: pin, replicas: bothUp))
        }
    }

    Benchmark("decide: GET, 3 rules, none matches") { benchmark in
        let lookup: (String) -> String? = { plainHeaders.first(name: $0) }
        for _ in benchmark.scaledIterations {
            blackHole(ruledRouter.decide(method: "GET", path: "/items/7", header: lookup, pin: .none, replicas: bothUp))
        }
    }

    // -- Rule matching, one condition kind at a time ----------------------------

    Benchmark("rule: path_prefix") { benchmark in
        let match = rules[0].match
        for _ in benchmark.scaledIterations {
            blackHole(match.matches(method: "GET", path: "/items/7", header: noHeader))
        }
    }

    Benchmark("rule: methods + header") { benchmark in
        let match = rules[1].match
        let lookup: (String) -> String? = { plainHeaders.first(name: $0) }
        for _ in benchmark.scaledIterations {
            blackHole(match.matches(method: "POST", path: "/search", header: lookup))
        }
    }

    Benchmark("rule: path_regex") { benchmark in
        let match = rules[2].match
        for _ in benchmark.scaledIterations {
            blackHole(match.matches(method: "GET", path: "/reports/12/view", header: noHeader))
        }
    }

    // -- The pin ----------------------------------------------------------------

    Benchmark("pin: sign (ttl token)") { benchmark in
        let token = PinToken(issuedAtMillis: now)
        for _ in benchmark.scaledIterations {
            blackHole(signer.sign(token))
        }
    }

    Benchmark("pin: verify valid") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(signer.verify(validCookie, nowMillis: now, ttlMillis: ttl))
        }
    }

    Benchmark("pin: verify valid, loop cache hit") { benchmark in
        var cache = PinVerificationCache()
        let value = validCookie[...]
        for _ in benchmark.scaledIterations {
            blackHole(cache.verify(value, signer: signer, nowMillis: now, ttlMillis: ttl))
        }
    }

    Benchmark("pin: verify forged") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(signer.verify(forgedCookie, nowMillis: now, ttlMillis: ttl))
        }
    }

    Benchmark("handler: Cookie header parse + verify (loop cache)") { benchmark in
        var cache = PinVerificationCache()
        for _ in benchmark.scaledIterations {
            blackHole(pinStatus(pinnedHeaders, snapshot: snapshot, cache: &cache))
        }
    }

    Benchmark("handler: no Cookie header") { benchmark in
        var cache = PinVerificationCache()
        for _ in benchmark.scaledIterations {
            blackHole(pinStatus(plainHeaders, snapshot: snapshot, cache: &cache))
        }
    }

    // -- Balancing ----------------------------------------------------------------

    Benchmark("balancer: round robin, 2 replica servers") { benchmark in
        var balancer = Balancer(.roundRobin, weights: snapshot.flatReplicaWeights)
        let set = ReplicaSet(bits: 1)
        let tried: Tried = nil
        let at = nioNow()
        for _ in benchmark.scaledIterations {
            blackHole(pickReplica(&balancer, snapshot: snapshot, replicas: set, now: at, tried: tried))
        }
    }

    Benchmark("balancer: least connections, 2 primary servers") { benchmark in
        var balancer = Balancer(.leastConnections, weights: snapshot.primaryWeights)
        let tried: Tried = nil
        let at = nioNow()
        for _ in benchmark.scaledIterations {
            blackHole(pickPrimary(&balancer, snapshot: snapshot, now: at, tried: tried))
        }
    }

    // -- Shared state ---------------------------------------------------------------

    Benchmark("snapshot: load snapshot + board") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(runtime.snapshot)
            blackHole(runtime.replicaBoard)
        }
    }

    Benchmark("handler: replica availability list") { benchmark in
        let board = runtime.replicaBoard
        let at = nioNow()
        for _ in benchmark.scaledIterations {
            blackHole(snapshot.withReplicaAvailability(board: board, now: at) { $0.count })
        }
    }

    // -- The whole decision, as the handler strings it together ----------------------

    Benchmark("path: GET, no cookie -> replica") { benchmark in
        var balancer = Balancer(.roundRobin, weights: snapshot.flatReplicaWeights)
        let tried: Tried = nil
        var cache = PinVerificationCache()
        for _ in benchmark.scaledIterations {
            let snapshot = runtime.snapshot
            let at = nioNow()
            let pin = pinStatus(plainHeaders, snapshot: snapshot, cache: &cache)
            let board = runtime.replicaBoard
            let path = pathWithoutQuery("/items/7")
            let decision = snapshot.withReplicaAvailability(board: board, now: at) { replicas in
                snapshot.router.decide(
                    method: "GET", path: path[...], header: { plainHeaders.first(name: $0) }, pin: pin, replicas: replicas)
            }
            if case .replicas(let set) = decision.target {
                blackHole(pickReplica(&balancer, snapshot: snapshot, replicas: set, now: at, tried: tried))
            }
        }
    }

    Benchmark("path: GET, valid pin -> primary") { benchmark in
        var balancer = Balancer(.roundRobin, weights: snapshot.primaryWeights)
        let tried: Tried = nil
        var cache = PinVerificationCache()
        for _ in benchmark.scaledIterations {
            let snapshot = runtime.snapshot
            let at = nioNow()
            let pin = pinStatus(pinnedHeaders, snapshot: snapshot, cache: &cache)
            let board = runtime.replicaBoard
            let path = pathWithoutQuery("/items/7")
            let decision = snapshot.withReplicaAvailability(board: board, now: at) { replicas in
                snapshot.router.decide(
                    method: "GET", path: path[...], header: { pinnedHeaders.first(name: $0) }, pin: pin, replicas: replicas)
            }
            if case .primary = decision.target {
                blackHole(pickPrimary(&balancer, snapshot: snapshot, now: at, tried: tried))
            }
        }
    }

    Benchmark("path: POST -> primary + sign pin") { benchmark in
        var balancer = Balancer(.roundRobin, weights: snapshot.primaryWeights)
        let tried: Tried = nil
        var cache = PinVerificationCache()
        for _ in benchmark.scaledIterations {
            let snapshot = runtime.snapshot
            let at = nioNow()
            let pin = pinStatus(plainHeaders, snapshot: snapshot, cache: &cache)
            let board = runtime.replicaBoard
            let path = pathWithoutQuery("/items")
            let decision = snapshot.withReplicaAvailability(board: board, now: at) { replicas in
                snapshot.router.decide(
                    method: "POST", path: path[...], header: { plainHeaders.first(name: $0) }, pin: pin, replicas: replicas)
            }
            blackHole(pickPrimary(&balancer, snapshot: snapshot, now: at, tried: tried))
            if decision.setsPin {
                let cookie = snapshot.configuration.pin.cookie + "=" + snapshot.signer.sign(PinToken(issuedAtMillis: WallClock.nowMillis()))
                    + snapshot.cookieAttributes
                blackHole(cookie)
            }
        }
    }
}
