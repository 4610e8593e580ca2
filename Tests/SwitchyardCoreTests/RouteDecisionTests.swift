import SwitchyardCore
import Testing

@Suite("RouteDecision, RouteReason and ReplicaSet")
struct RouteDecisionTests {
    typealias F = RoutingFixtures

    struct PinCase: Sendable, CustomStringConvertible {
        var decision: RouteDecision
        var setsPin: Bool
        var route: Route
        var description: String { "\(self.decision.reason) -> \(self.decision.target)" }
    }

    /// SPEC §3: "A response to a write (any method routed to the primary as a
    /// write or by a rule to the primary) ... carries the pin"; pinned reads
    /// do not refresh it.
    @Test(
        "setsPin and route for every reason and target",
        arguments: [
            PinCase(decision: RouteDecision(target: .primary, reason: .write, setsPin: true), setsPin: true, route: .primary),
            PinCase(decision: RouteDecision(target: .primary, reason: .rule("admin"), setsPin: true), setsPin: true, route: .primary),
            PinCase(decision: RouteDecision(target: .replicas(F.set(0)), reason: .rule("search")), setsPin: false, route: .replica),
            PinCase(decision: RouteDecision(target: .unavailable, reason: .rule("search")), setsPin: false, route: .primary),
            PinCase(decision: RouteDecision(target: .replicas(F.set(0, 1)), reason: .read), setsPin: false, route: .replica),
            PinCase(decision: RouteDecision(target: .primary, reason: .pinned), setsPin: false, route: .primary),
            PinCase(decision: RouteDecision(target: .replicas(F.set(1)), reason: .pinCaughtUp), setsPin: false, route: .replica),
            PinCase(decision: RouteDecision(target: .primary, reason: .noReplica), setsPin: false, route: .primary),
            PinCase(decision: RouteDecision(target: .unavailable, reason: .noReplica), setsPin: false, route: .primary),
        ]
    )
    func setsPinAndRoute(testCase: PinCase) {
        #expect(testCase.decision.setsPin == testCase.setsPin)
        #expect(testCase.decision.route == testCase.route)
    }

    @Test(
        "reasons print as the log's reason field",
        arguments: [
            (RouteReason.write, "write"),
            (.read, "read"),
            (.pinned, "pinned"),
            (.pinCaughtUp, "pin-caught-up"),
            (.noReplica, "no-replica"),
            (.rule("admin-on-primary"), "rule:admin-on-primary"),
            (.rule("search_is-a-read_2"), "rule:search_is-a-read_2"),
        ]
    )
    func reasonDescription(reason: RouteReason, text: String) {
        #expect(reason.description == text)
        #expect("\(reason)" == text)
    }

    @Test("routes print as the log's route field")
    func routeRawValues() {
        #expect(Route.primary.rawValue == "primary")
        #expect(Route.replica.rawValue == "replica")
        #expect(Route.allCases.count == 2)
    }

    @Test("decisions compare by target and reason")
    func decisionEquality() {
        #expect(RouteDecision(target: .primary, reason: .rule("a")) != RouteDecision(target: .primary, reason: .rule("b")))
        #expect(RouteDecision(target: .replicas(F.set(0)), reason: .read) != RouteDecision(target: .replicas(F.set(1)), reason: .read))
        #expect(RouteDecision(target: .replicas(F.set(0, 3)), reason: .read) == RouteDecision(target: .replicas(F.set(3, 0)), reason: .read))
    }

    // MARK: - ReplicaSet

    @Test("an empty set")
    func emptySet() {
        let set = ReplicaSet()
        #expect(set.isEmpty)
        #expect(set.bits == 0)
        #expect(Array(set).isEmpty)
        #expect(!set.contains(0))
        #expect(ReplicaSet.maximumCount == 64)
    }

    @Test("insert, contains and ascending iteration")
    func insertAndIterate() {
        var set = ReplicaSet()
        for index in [5, 0, 63, 17, 5, 32, 31] {
            set.insert(index)
        }
        #expect(!set.isEmpty)
        #expect(Array(set) == [0, 5, 17, 31, 32, 63])
        for index in 0..<64 {
            #expect(set.contains(index) == [0, 5, 17, 31, 32, 63].contains(index), "index \(index)")
        }
        let expectedBits: UInt64 = 1 << 0 | 1 << 5 | 1 << 17 | 1 << 31 | 1 << 32 | 1 << 63
        #expect(set.bits == expectedBits)
        // Iterating twice gives the same answer (the iterator is a copy).
        #expect(Array(set) == Array(set))
    }

    @Test("indexes outside 0..<64 are ignored on insert and never contained", arguments: [-1, -64, 64, 65, 1_000, Int.min, Int.max])
    func outOfRange(index: Int) {
        var set = F.set(1)
        set.insert(index)
        #expect(set == F.set(1))
        #expect(!set.contains(index))
        #expect(!ReplicaSet(bits: .max).contains(index))
    }

    @Test("a full set holds all 64 indexes")
    func fullSet() {
        let set = ReplicaSet(bits: .max)
        #expect(Array(set) == Array(0..<64))
        #expect(set.underestimatedCount <= 64)
    }

    @Test("sets compare and hash by their bits")
    func setEquality() {
        #expect(F.set(1, 2) == ReplicaSet(bits: 0b110))
        #expect(Set([F.set(1, 2), F.set(2, 1), F.set(3)]).count == 2)
    }
}
