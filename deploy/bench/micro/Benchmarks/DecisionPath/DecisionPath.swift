// Micro-benchmarks of the per-request decision path: what ProxyServerHandler
// does for every request before it touches an upstream connection.
//
// Every benchmark runs its body `scalingFactor` (1,000) times per measured
// iteration; the tables show time and allocations per single call (the rows
// marked `*`; do not pass `--scale`, which shows them per 1,000 calls).
//
// The topology matches deploy/bench/switchyard.yaml: two primary servers, one
// replica (`replica-a`) with two servers, no rules, `pin.mode: ttl`, ttl 10 s.
// The "parse:", "handler:" and "path:" benchmarks run the request path's own
// code: ClientRequestParser and DecisionPath are `package` in HTTPProxy, whose
// sources this package compiles (the balancer picks copy LoopContext's calls).
// The "log:" benchmarks build the decision line every request writes
// (DecisionRecord.logBytes), in a reused array as the handler does and in a new one.

import Benchmark
import HTTPProxy
import Logging
import NIOCore
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

/// A request head as a client sends it, parsed by the request path's parser.
private func parsedHead(_ text: String) -> ClientRequestHead {
    var parser = ClientRequestParser(maximumHeadBytes: 32 * 1024)
    parser.append(ByteBuffer(string: text))
    guard case .head(let head) = try? parser.next() else {
        preconditionFailure("benchmark fixture does not parse: \(text)")
    }
    return head
}

/// wrk's request (what the macro benchmark sends).
private let plainText = "GET /items/7 HTTP/1.1\r\nHost: 127.0.0.1:21080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"

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

private let plainHeaders = parsedHead(plainText)

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
    let pinnedText =
        "GET /items/7 HTTP/1.1\r\nHost: 127.0.0.1:21080\r\nUser-Agent: wrk\r\nCookie: theme=dark; switchyard_pin=\(validCookie); _ga=GA1.2.3\r\n\r\n"
    let pinnedHeaders = parsedHead(pinnedText)
    let nioNow: () -> UInt64 = { NIODeadline.now().uptimeNanoseconds }

    // -- Classification and routing --------------------------------------------

    Benchmark("classify: isRead(GET)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(router.isRead(method: "GET"))
        }
    }

    Benchmark("classify: path without query") { benchmark in
        let head = parsedHead("GET /items/7?fields=name,price HTTP/1.1\r\nHost: t\r\n\r\n")
        for _ in benchmark.scaledIterations {
            blackHole(head.path)
        }
    }

    // -- Parsing the request head ------------------------------------------------

    Benchmark("parse: wrk's GET head") { benchmark in
        let bytes = ByteBuffer(string: plainText)
        // The loop's reused header-line array, as ProxyServerHandler passes it.
        var lines: [HeadLines.Line] = []
        for _ in benchmark.scaledIterations {
            var parser = ClientRequestParser(maximumHeadBytes: 32 * 1024)
            parser.append(bytes)
            blackHole(try? parser.next(lineScratch: &lines))
        }
    }

    Benchmark("parse: browser-like GET head, 9 headers with a pin cookie") { benchmark in
        let bytes = ByteBuffer(
            string: "GET /items/7?fields=name HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                + "Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-GB,en;q=0.9\r\nAccept-Encoding: gzip, br\r\n"
                + "Referer: https://shop.example.com/items\r\nConnection: keep-alive\r\n"
                + "Cookie: theme=dark; switchyard_pin=\(validCookie); _ga=GA1.2.3\r\nUpgrade-Insecure-Requests: 1\r\n\r\n")
        // The loop's reused header-line array, as ProxyServerHandler passes it.
        var lines: [HeadLines.Line] = []
        for _ in benchmark.scaledIterations {
            var parser = ClientRequestParser(maximumHeadBytes: 32 * 1024)
            parser.append(bytes)
            blackHole(try? parser.next(lineScratch: &lines))
        }
    }

    // -- Parsing the response head ------------------------------------------------

    Benchmark("parse: the app nginx's 200 response, 7 headers, 94-byte body") { benchmark in
        // What deploy/bench's app server answers a small GET with, read in one piece.
        let bytes = ByteBuffer(
            string: "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 06 Dec 2026 05:23:12 GMT\r\nContent-Type: text/plain\r\n"
                + "Content-Length: 94\r\nConnection: keep-alive\r\nX-Pool: replica\r\nX-App: r1\r\n\r\n"
                + String(repeating: "b", count: 94))
        // One parser per upstream connection, armed per request, as UpstreamConnection does,
        // handing its events to a sink as it hands them to the proxy handler.
        let parser = UpstreamResponseParser()
        for _ in benchmark.scaledIterations {
            parser.expectResponse(toHEAD: false)
            try? parser.feed(bytes, to: BlackHoleSink(), ())
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
        let lookup: (String) -> String? = { plainHeaders.firstValue($0) }
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
        let lookup: (String) -> String? = { plainHeaders.firstValue($0) }
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
            blackHole(DecisionPath.pinStatus(pinnedHeaders, snapshot: snapshot, cache: &cache))
        }
    }

    Benchmark("handler: no Cookie header") { benchmark in
        var cache = PinVerificationCache()
        for _ in benchmark.scaledIterations {
            blackHole(DecisionPath.pinStatus(plainHeaders, snapshot: snapshot, cache: &cache))
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

    Benchmark("snapshot: snapshot + board through the loop's cache") { benchmark in
        // As ProxyServerHandler.receivedHead reads them: one version check.
        var published = PublishedStateCache()
        for _ in benchmark.scaledIterations {
            let (snapshot, board, replicaEntries) = runtime.published(&published)
            blackHole(snapshot)
            blackHole(board)
            blackHole(replicaEntries)
        }
    }

    Benchmark("handler: replica availability list") { benchmark in
        var published = PublishedStateCache()
        let at = nioNow()
        for _ in benchmark.scaledIterations {
            let (snapshot, _, replicaEntries) = runtime.published(&published)
            blackHole(snapshot.withReplicaAvailability(entries: replicaEntries, now: at) { $0.count })
        }
    }

    // -- The whole decision, as the handler strings it together ----------------------

    Benchmark("path: GET, no cookie -> replica") { benchmark in
        var balancer = Balancer(.roundRobin, weights: snapshot.flatReplicaWeights)
        let tried: Tried = nil
        var cache = PinVerificationCache()
        var published = PublishedStateCache()
        for _ in benchmark.scaledIterations {
            let (snapshot, _, replicaEntries) = runtime.published(&published)
            let at = nioNow()
            let (_, decision) = DecisionPath.decide(
                plainHeaders, path: plainHeaders.path, snapshot: snapshot,
                replicaEntries: replicaEntries, pinCache: &cache, now: at)
            if case .replicas(let set) = decision.target {
                blackHole(pickReplica(&balancer, snapshot: snapshot, replicas: set, now: at, tried: tried))
            }
        }
    }

    Benchmark("path: GET, valid pin -> primary") { benchmark in
        var balancer = Balancer(.roundRobin, weights: snapshot.primaryWeights)
        let tried: Tried = nil
        var cache = PinVerificationCache()
        var published = PublishedStateCache()
        for _ in benchmark.scaledIterations {
            let (snapshot, _, replicaEntries) = runtime.published(&published)
            let at = nioNow()
            let (_, decision) = DecisionPath.decide(
                pinnedHeaders, path: pinnedHeaders.path, snapshot: snapshot,
                replicaEntries: replicaEntries, pinCache: &cache, now: at)
            if case .primary = decision.target {
                blackHole(pickPrimary(&balancer, snapshot: snapshot, now: at, tried: tried))
            }
        }
    }

    Benchmark("path: POST -> primary + sign pin") { benchmark in
        var balancer = Balancer(.roundRobin, weights: snapshot.primaryWeights)
        let tried: Tried = nil
        var cache = PinVerificationCache()
        var head = ByteBufferAllocator().buffer(capacity: 256)
        let post = parsedHead("POST /items HTTP/1.1\r\nHost: 127.0.0.1:21080\r\nUser-Agent: wrk\r\nContent-Length: 2\r\n\r\n")
        var published = PublishedStateCache()
        for _ in benchmark.scaledIterations {
            let (snapshot, _, replicaEntries) = runtime.published(&published)
            let at = nioNow()
            let (_, decision) = DecisionPath.decide(
                post, path: post.path, snapshot: snapshot,
                replicaEntries: replicaEntries, pinCache: &cache, now: at)
            blackHole(pickPrimary(&balancer, snapshot: snapshot, now: at, tried: tried))
            if decision.setsPin {
                // What ProxyServerHandler.emitAddedHeaders writes into the response head (it writes all of a head in one piece).
                head.clear()
                head.writeStaticString("set-cookie: ")
                head.writeString(snapshot.configuration.pin.cookie)
                head.writeStaticString("=")
                snapshot.signer.withSignedToken(PinToken(issuedAtMillis: WallClock.nowMillis())) { _ = head.writeBytes($0) }
                head.writeString(snapshot.cookieAttributes)
                head.writeStaticString("\r\n")
                blackHole(head.readableBytes)
            }
        }
    }

    // -- After the response: the decision line ------------------------------------

    /// What a small GET proxied to a replica logs.
    let smallGETRecord = DecisionRecord.make(
        timestampMillis: 1_764_950_400_123, method: "GET", path: "/", client: "127.0.0.1", route: .replica, reason: .read,
        replica: "replica-a", lagSeconds: 0, server: "127.0.0.1:21012", pin: .none, status: 200, attempts: 1,
        durationSeconds: 0.000_412, pinSet: false)

    Benchmark("log: decision line, JSON, into the loop's batch") { benchmark in
        let record = smallGETRecord
        var batch: [UInt8] = []
        batch.reserveCapacity(33 * 1024)
        var timestamps = TimestampCache()
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)  // LoopContext.decisionLineScratch
        defer { scratch.deallocate() }
        for _ in benchmark.scaledIterations {
            // As LoopContext.logDecision does it; the batch is handed over (and emptied) at 32 KiB.
            record.appendLogLine(format: .json, to: &batch, timestamps: &timestamps, scratch: scratch)
            if batch.count >= 32 * 1024 {  // LoopContext.decisionBatchBytes
                blackHole(batch.count)
                batch.removeAll(keepingCapacity: true)
            }
        }
    }

    Benchmark("log: decision line, JSON, in a reused array") { benchmark in
        let record = smallGETRecord
        var storage: [UInt8] = []
        for _ in benchmark.scaledIterations {
            // As ProxyServerHandler.logDecision did it before lines were batched.
            var taken: [UInt8] = []
            swap(&taken, &storage)
            storage = record.logBytes(format: .json, reusing: consume taken)
            blackHole(storage.count)
        }
    }

    Benchmark("log: decision line, JSON, new array") { benchmark in
        let record = smallGETRecord
        for _ in benchmark.scaledIterations {
            blackHole(record.logBytes(format: .json).count)
        }
    }
}

/// Takes the response parser's events as the proxy handler does (a sink, not a closure).
struct BlackHoleSink: UpstreamResponseSink {
    func receive(_ event: UpstreamResponseEvent, _ context: Void) {
        blackHole(event)
    }
}
