import SwitchyardCore
import Testing

/// SPEC §3 "For each request, in order": rules, write, pinned / pin-caught-up,
/// read / no-replica.
@Suite("RequestRouter: every routing reason")
struct RequestRouterTests {
    typealias F = RoutingFixtures

    static let twoUsable = [F.replica(true, "0/5000"), F.replica(true, "0/6000")]

    static func validPin(_ lsn: String? = nil) -> PinStatus {
        .valid(PinToken(issuedAtMillis: 1_000, lsn: lsn.flatMap { LSN(parsing: $0) }))
    }

    // MARK: - write

    @Test("a method not in read_methods goes to the primary as a write", arguments: ["POST", "PUT", "PATCH", "DELETE", "PURGE", "MKCOL"])
    func write(method: String) {
        let decision = F.router().decide(method, "/items/7", replicas: Self.twoUsable)
        #expect(decision == RouteDecision(target: .primary, reason: .write, setsPin: true))
        #expect(decision.route == .primary)
        #expect(decision.setsPin)
        #expect(decision.reason.description == "write")
    }

    @Test("methods are case-sensitive tokens: 'get' is not the read 'GET'", arguments: ["get", "Get", "head", "options"])
    func methodCaseSensitive(method: String) {
        #expect(F.router().decide(method, "/", replicas: Self.twoUsable).reason == .write)
    }

    @Test("a write ignores the pin and the replicas' state", arguments: [PinStatus.none, .expired, .invalid, RequestRouterTests.validPin("0/10")])
    func writeIgnoresPinAndReplicas(pin: PinStatus) {
        for replicas in [[], Self.twoUsable, [F.replica(false)]] {
            for onNoReplica in RoutingConfiguration.OnNoReplica.allCases {
                let decision = F.router(onNoReplica: onNoReplica).decide("POST", "/", pin: pin, replicas: replicas)
                #expect(decision == RouteDecision(target: .primary, reason: .write, setsPin: true))
            }
        }
    }

    // MARK: - read

    @Test("a read goes to every usable replica", arguments: ["GET", "HEAD", "OPTIONS"])
    func read(method: String) {
        let replicas = [F.replica(true), F.replica(false), F.replica(true, "0/1"), F.replica(false, "FF/0")]
        let decision = F.router().decide(method, "/items/7", replicas: replicas)
        #expect(decision == RouteDecision(target: .replicas(F.set(0, 2)), reason: .read))
        #expect(decision.route == .replica)
        #expect(!decision.setsPin)
        #expect(decision.reason.description == "read")
    }

    @Test("a read with no pin, an expired pin or an invalid pin is a plain read", arguments: [PinStatus.none, .expired, .invalid])
    func readWithoutValidPin(pin: PinStatus) {
        let decision = F.router().decide("GET", "/", pin: pin, replicas: Self.twoUsable)
        #expect(decision == RouteDecision(target: .replicas(F.set(0, 1)), reason: .read))
    }

    // MARK: - pinned / pin-caught-up

    @Test("lsn mode: a valid pin whose LSN no usable replica has replayed is pinned to the primary")
    func pinnedBehind() {
        let replicas = [F.replica(true, "0/1FFF"), F.replica(true, nil), F.replica(false, "0/9000")]
        let decision = F.router(mode: .lsn).decide("GET", "/", pin: Self.validPin("0/2000"), replicas: replicas)
        #expect(decision == RouteDecision(target: .primary, reason: .pinned))
        #expect(decision.route == .primary)
        #expect(!decision.setsPin)
        #expect(decision.reason.description == "pinned")
    }

    @Test("lsn mode: replay LSN == pin LSN is caught up (>=), served by exactly the caught-up usable replicas")
    func pinCaughtUp() {
        let replicas = [
            F.replica(true, "0/1FFF"),  // behind
            F.replica(true, "0/2000"),  // exactly at the pin
            F.replica(false, "0/9000"),  // caught up, but not usable
            F.replica(true, nil),  // position unknown
            F.replica(true, "1/0"),  // far ahead
        ]
        let decision = F.router(mode: .lsn).decide("GET", "/", pin: Self.validPin("0/2000"), replicas: replicas)
        #expect(decision == RouteDecision(target: .replicas(F.set(1, 4)), reason: .pinCaughtUp))
        #expect(decision.route == .replica)
        #expect(!decision.setsPin)
        #expect(decision.reason.description == "pin-caught-up")
    }

    @Test("lsn mode: one byte behind the pin is not caught up")
    func oneByteBehind() {
        let decision = F.router(mode: .lsn).decide("HEAD", "/", pin: Self.validPin("0/2000"), replicas: [F.replica(true, "0/1FFF")])
        #expect(decision.reason == .pinned)
    }

    @Test("lsn mode: a pin without a position (primary was unreachable) behaves as in ttl mode")
    func pinWithoutLSN() {
        let replicas = [F.replica(true, "FFFFFFFF/FFFFFFFF")]
        let decision = F.router(mode: .lsn).decide("GET", "/", pin: Self.validPin(nil), replicas: replicas)
        #expect(decision == RouteDecision(target: .primary, reason: .pinned))
    }

    @Test("ttl mode: a valid pin is never caught up, however far the replicas are")
    func ttlModeNeverCaughtUp() {
        let replicas = [F.replica(true, "FFFFFFFF/FFFFFFFF"), F.replica(true, "0/0")]
        for pin in [Self.validPin("0/0"), Self.validPin("0/10"), Self.validPin(nil)] {
            let decision = F.router(mode: .ttl).decide("GET", "/", pin: pin, replicas: replicas)
            #expect(decision == RouteDecision(target: .primary, reason: .pinned))
        }
    }

    @Test("a pinned read goes to the primary even when no replica is usable, also under on_no_replica: fail")
    func pinnedWithoutReplicas() {
        for onNoReplica in RoutingConfiguration.OnNoReplica.allCases {
            for mode in PinConfiguration.Mode.allCases {
                for replicas in [[], [F.replica(false, "1/0")]] {
                    let decision = F.router(onNoReplica: onNoReplica, mode: mode).decide("GET", "/", pin: Self.validPin("0/10"), replicas: replicas)
                    #expect(decision == RouteDecision(target: .primary, reason: .pinned))
                }
            }
        }
    }

    @Test("custom read methods are pinned too")
    func customReadPinned() {
        let router = F.router(readMethods: ["GET", "PROPFIND"])
        #expect(router.decide("PROPFIND", "/", pin: Self.validPin("0/10"), replicas: [F.replica(true, "0/9")]).reason == .pinned)
        #expect(router.decide("PROPFIND", "/", pin: Self.validPin("0/10"), replicas: [F.replica(true, "0/10")]).reason == .pinCaughtUp)
    }

    // MARK: - no-replica

    @Test("on_no_replica: primary sends a read to the primary when no replica is usable")
    func noReplicaPrimary() {
        for replicas in [[], [F.replica(false)], [F.replica(false, "0/1"), F.replica(false, "1/0")]] {
            let decision = F.router(onNoReplica: .primary).decide("GET", "/", replicas: replicas)
            #expect(decision == RouteDecision(target: .primary, reason: .noReplica))
            #expect(decision.route == .primary)
            #expect(!decision.setsPin)
            #expect(decision.reason.description == "no-replica")
        }
    }

    @Test("on_no_replica: fail answers unavailable (503) when no replica is usable")
    func noReplicaFail() {
        for replicas in [[], [F.replica(false)], [F.replica(false, "0/1"), F.replica(false, "1/0")]] {
            let decision = F.router(onNoReplica: .fail).decide("GET", "/", replicas: replicas)
            #expect(decision == RouteDecision(target: .unavailable, reason: .noReplica))
            #expect(!decision.setsPin)
        }
    }

    @Test("expired / invalid pins fall back like plain reads", arguments: [PinStatus.expired, .invalid])
    func stalePinNoReplica(pin: PinStatus) {
        #expect(F.router(onNoReplica: .fail).decide("GET", "/", pin: pin, replicas: []) == RouteDecision(target: .unavailable, reason: .noReplica))
        #expect(F.router(onNoReplica: .primary).decide("GET", "/", pin: pin, replicas: []) == RouteDecision(target: .primary, reason: .noReplica))
    }

    // MARK: - rules

    @Test("a rule to the primary decides before the method split, for reads too, and sets the pin")
    func ruleToPrimary() {
        let router = F.router(rules: [F.rule("admin-on-primary", route: .primary, prefix: "/admin")])
        for method in ["GET", "HEAD", "POST", "DELETE"] {
            let decision = router.decide(method, "/admin/users", pin: Self.validPin("0/1"), replicas: Self.twoUsable)
            #expect(decision == RouteDecision(target: .primary, reason: .rule("admin-on-primary"), setsPin: true))
            #expect(decision.reason.description == "rule:admin-on-primary")
            #expect(decision.route == .primary)
            #expect(decision.setsPin, "a rule to the primary counts as a write for the pin (SPEC §3)")
        }
        // Not matching: the ordinary split.
        #expect(router.decide("GET", "/items", replicas: Self.twoUsable).reason == .read)
        #expect(router.decide("POST", "/items", replicas: Self.twoUsable).reason == .write)
    }

    @Test("a rule to the replicas decides before the method split and ignores a valid pin")
    func ruleToReplica() {
        let router = F.router(rules: [F.rule("search-is-a-read", route: .replica, prefix: "/search", methods: ["POST"])])
        let replicas = [F.replica(true, "0/1"), F.replica(false), F.replica(true)]
        for pin in [PinStatus.none, Self.validPin("FF/0"), Self.validPin(nil), .expired, .invalid] {
            let decision = router.decide("POST", "/search", pin: pin, replicas: replicas)
            #expect(decision == RouteDecision(target: .replicas(F.set(0, 2)), reason: .rule("search-is-a-read")))
            #expect(decision.route == .replica)
            #expect(!decision.setsPin)
            #expect(decision.reason.description == "rule:search-is-a-read")
        }
        // GET /search is not matched by the POST-only rule: an ordinary read.
        #expect(router.decide("GET", "/search", replicas: replicas).reason == .read)
        // POST elsewhere is an ordinary write.
        #expect(router.decide("POST", "/items", replicas: replicas).reason == .write)
    }

    @Test("a replica rule with no usable replica falls back per on_no_replica, and sets no pin")
    func ruleToReplicaWithoutReplica() {
        let rules = [F.rule("reports", route: .replica, prefix: "/reports")]
        for replicas in [[], [F.replica(false, "1/0")]] {
            let toPrimary = F.router(rules: rules, onNoReplica: .primary).decide("DELETE", "/reports/1", replicas: replicas)
            #expect(toPrimary.target == .primary)
            #expect(toPrimary.route == .primary)
            #expect(!toPrimary.setsPin, "a replica rule's fall-back is not 'a rule to the primary'")
            let failing = F.router(rules: rules, onNoReplica: .fail).decide("GET", "/reports/1", replicas: replicas)
            #expect(failing.target == .unavailable)
            #expect(!failing.setsPin)
        }
    }

    /// SPEC §3 step 1: "The first matching rule decides (`reason: rule:NAME`)";
    /// `no-replica` is defined only for step 4, "any other read". The
    /// fall-back target above stays; the reason should still name the rule.
    @Test("a replica rule with no usable replica still logs reason rule:NAME")
    func ruleToReplicaWithoutReplicaReason() {
        let rules = [F.rule("reports", route: .replica, prefix: "/reports")]
        for onNoReplica in RoutingConfiguration.OnNoReplica.allCases {
            let decision = F.router(rules: rules, onNoReplica: onNoReplica).decide("GET", "/reports/1", replicas: [F.replica(false)])
            #expect(decision.reason == .rule("reports"), "on_no_replica: \(onNoReplica.rawValue)")
            #expect(!decision.setsPin)
        }
    }

    @Test("a primary rule needs no replica at all, also under on_no_replica: fail")
    func ruleToPrimaryWithoutReplica() {
        let router = F.router(rules: [F.rule("admin", route: .primary, prefix: "/admin")], onNoReplica: .fail)
        #expect(router.decide("GET", "/admin", replicas: []) == RouteDecision(target: .primary, reason: .rule("admin"), setsPin: true))
    }

    @Test("the first matching rule wins")
    func firstMatchWins() {
        let broad = F.rule("broad", route: .replica, prefix: "/api")
        let narrow = F.rule("narrow", route: .primary, prefix: "/api/orders")
        let broadFirst = F.router(rules: [broad, narrow])
        let narrowFirst = F.router(rules: [narrow, broad])
        #expect(broadFirst.decide("GET", "/api/orders/1", replicas: Self.twoUsable).reason == .rule("broad"))
        #expect(narrowFirst.decide("GET", "/api/orders/1", replicas: Self.twoUsable).reason == .rule("narrow"))
        #expect(narrowFirst.decide("GET", "/api/users", replicas: Self.twoUsable).reason == .rule("broad"))
        #expect(broadFirst.matchingRule(method: "GET", path: "/api/orders/1", header: F.headers())?.name == "broad")
        #expect(narrowFirst.matchingRule(method: "GET", path: "/api/orders/1", header: F.headers())?.name == "narrow")
    }

    @Test("a rule that does not match is skipped for a later one")
    func laterRuleMatches() throws {
        let rules = [
            F.rule("tenant-beta", route: .primary, headers: [HeaderCondition(name: "X-Tenant", value: "beta")]),
            F.rule("exports", route: .replica, regex: try PathRegex("\\.csv$")),
        ]
        let router = F.router(rules: rules)
        #expect(router.decide("POST", "/export.csv", replicas: Self.twoUsable).reason == .rule("exports"))
        #expect(router.decide("POST", "/export.csv", headers: ["x-tenant": "beta"], replicas: Self.twoUsable).reason == .rule("tenant-beta"))
        #expect(router.decide("POST", "/export.json", headers: ["X-Tenant": "alpha"], replicas: Self.twoUsable).reason == .write)
        #expect(router.matchingRule(method: "GET", path: "/x", header: F.headers()) == nil)
    }

    @Test("a header rule looks the header up by lower-cased name")
    func headerRuleLookup() {
        let router = F.router(rules: [F.rule("beta", route: .primary, headers: [HeaderCondition(name: "X-Tenant", value: "beta")])])
        // The lookup closure only answers lower-case names, as the proxy's does.
        #expect(router.decide("GET", "/", headers: ["X-TENANT": "beta"], replicas: Self.twoUsable).reason == .rule("beta"))
        #expect(router.decide("GET", "/", headers: ["x-tenant": "Beta"], replicas: Self.twoUsable).reason == .read)
    }

    @Test("no rules: matchingRule is nil")
    func noRules() {
        #expect(F.router().matchingRule(method: "GET", path: "/admin", header: F.headers()) == nil)
    }

    // MARK: - read_methods

    @Test("custom read_methods decide what a read is")
    func customReadMethods() {
        let router = F.router(readMethods: ["GET", "PROPFIND", "REPORT"])
        #expect(router.isRead(method: "GET"))
        #expect(router.isRead(method: "PROPFIND"))
        #expect(router.isRead(method: "REPORT"))
        #expect(!router.isRead(method: "HEAD"))
        #expect(!router.isRead(method: "OPTIONS"))
        #expect(!router.isRead(method: "propfind"))
        #expect(router.decide("PROPFIND", "/", replicas: Self.twoUsable).reason == .read)
        #expect(router.decide("REPORT", "/", replicas: Self.twoUsable).reason == .read)
        #expect(router.decide("HEAD", "/", replicas: Self.twoUsable).reason == .write)
        #expect(router.decide("OPTIONS", "/", replicas: Self.twoUsable).reason == .write)
    }

    @Test("the default read_methods are GET, HEAD and OPTIONS")
    func defaultReadMethods() {
        let router = RequestRouter(configuration: RoutingConfiguration(), pinMode: .lsn)
        #expect(router.isRead(method: "GET"))
        #expect(router.isRead(method: "HEAD"))
        #expect(router.isRead(method: "OPTIONS"))
        for method in ["POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT", ""] {
            #expect(!router.isRead(method: method))
        }
    }

    @Test("with no read methods everything is a write")
    func noReadMethods() {
        let router = F.router(readMethods: [])
        for method in ["GET", "HEAD", "OPTIONS", "POST"] {
            #expect(router.decide(method, "/", replicas: Self.twoUsable) == RouteDecision(target: .primary, reason: .write, setsPin: true))
        }
    }

    // MARK: - replica indexes

    @Test("replica indexes follow configuration order, up to 64 replicas")
    func sixtyFourReplicas() {
        let replicas = (0..<64).map { index in F.replica(index % 3 != 0, "0/\(index)") }
        let decision = F.router().decide("GET", "/", replicas: replicas)
        guard case .replicas(let set) = decision.target else {
            Issue.record("expected replicas, got \(decision)")
            return
        }
        #expect(Array(set) == (0..<64).filter { $0 % 3 != 0 })
        #expect(set.contains(62))
        #expect(!set.contains(63))
        #expect(!set.contains(0))
        let allUsable = F.router().decide("GET", "/", replicas: (0..<64).map { _ in F.replica(true) })
        #expect(allUsable.target == .replicas(ReplicaSet(bits: .max)))
    }

    @Test("the router exposes its configuration and pin mode")
    func exposesConfiguration() {
        let configuration = RoutingConfiguration(readMethods: ["GET"], rules: [], onNoReplica: .fail, balance: .leastConnections)
        let router = RequestRouter(configuration: configuration, pinMode: .ttl)
        #expect(router.configuration == configuration)
        #expect(router.pinMode == .ttl)
    }
}
