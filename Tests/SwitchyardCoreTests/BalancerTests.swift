import SwitchyardCore
import Testing

@Suite("SmoothWeightedRoundRobin")
struct SmoothWeightedRoundRobinTests {
    static let weightSets: [[Int]] = [
        [1], [1, 1], [1, 1, 1], [2, 1], [3, 2, 1], [5, 1, 1], [10, 1], [4, 4, 2], [1, 2, 3, 4], [7, 3], [100, 1, 1],
    ]

    private static func picks(_ balancer: inout SmoothWeightedRoundRobin, count: Int, eligible: (Int) -> Bool = { _ in true }) -> [Int?] {
        (0..<count).map { _ in balancer.pick(isEligible: eligible) }
    }

    @Test("weights 5,1,1 give a a b a c a a, cycle after cycle (nginx's example)")
    func nginxPattern() {
        var balancer = SmoothWeightedRoundRobin(weights: [5, 1, 1])
        let expected: [Int?] = [0, 0, 1, 0, 2, 0, 0]
        for cycle in 0..<5 {
            #expect(Self.picks(&balancer, count: 7) == expected, "cycle \(cycle)")
        }
    }

    @Test("equal weights are a plain rotation")
    func equalWeights() {
        var balancer = SmoothWeightedRoundRobin(weights: [1, 1, 1])
        #expect(Self.picks(&balancer, count: 9) == [0, 1, 2, 0, 1, 2, 0, 1, 2])
    }

    @Test("every full cycle (sum of weights picks) holds each peer exactly weight times", arguments: SmoothWeightedRoundRobinTests.weightSets)
    func exactShares(weights: [Int]) {
        var balancer = SmoothWeightedRoundRobin(weights: weights)
        let cycle = weights.reduce(0, +)
        for round in 0..<10 {
            var counts = [Int](repeating: 0, count: weights.count)
            for _ in 0..<cycle {
                guard let picked = balancer.pick(isEligible: { _ in true }) else {
                    Issue.record("nil with every peer eligible")
                    return
                }
                counts[picked] += 1
            }
            #expect(counts == weights, "round \(round)")
        }
    }

    @Test("smooth: a weight-1 peer is never picked twice in a row while heavier peers exist", arguments: [[5, 1, 1], [3, 1], [10, 1, 1, 1]])
    func smooth(weights: [Int]) {
        var balancer = SmoothWeightedRoundRobin(weights: weights)
        let sequence = Self.picks(&balancer, count: weights.reduce(0, +) * 4)
        for (previous, next) in zip(sequence, sequence.dropFirst()) where previous == next {
            #expect(previous == 0, "peer \(String(describing: previous)) picked twice in a row")
        }
    }

    @Test("ineligible peers are skipped and the others keep their relative shares")
    func ineligibleSkipped() {
        var balancer = SmoothWeightedRoundRobin(weights: [5, 1, 1])
        var counts = [0, 0, 0]
        for _ in 0..<60 {
            guard let picked = balancer.pick(isEligible: { $0 != 2 }) else {
                Issue.record("nil with two eligible peers")
                return
            }
            counts[picked] += 1
        }
        #expect(counts == [50, 10, 0])
    }

    @Test("a peer that comes back is picked again")
    func peerReturns() {
        var balancer = SmoothWeightedRoundRobin(weights: [1, 1])
        #expect(Self.picks(&balancer, count: 4, eligible: { $0 == 0 }) == [0, 0, 0, 0])
        let after = Self.picks(&balancer, count: 4)
        #expect(after.filter { $0 == 1 }.count == 2)
        #expect(after.filter { $0 == 0 }.count == 2)
    }

    @Test("nil when no peer is eligible or there are none; such a pick leaves the rotation undisturbed")
    func noneEligible() {
        var empty = SmoothWeightedRoundRobin(weights: [])
        #expect(empty.pick(isEligible: { _ in true }) == nil)

        var reference = SmoothWeightedRoundRobin(weights: [5, 1, 1])
        var balancer = SmoothWeightedRoundRobin(weights: [5, 1, 1])
        for step in 0..<21 {
            #expect(balancer.pick(isEligible: { _ in false }) == nil)
            #expect(balancer.pick(isEligible: { _ in true }) == reference.pick(isEligible: { _ in true }), "step \(step)")
        }
    }

    @Test("only eligible indexes are ever returned", arguments: SmoothWeightedRoundRobinTests.weightSets)
    func onlyEligible(weights: [Int]) {
        var balancer = SmoothWeightedRoundRobin(weights: weights)
        for step in 0..<200 {
            let eligible = Set(weights.indices.filter { ($0 + step) % 3 != 0 })
            let picked = balancer.pick(isEligible: { eligible.contains($0) })
            if eligible.isEmpty {
                #expect(picked == nil)
            } else {
                let index = picked ?? -1
                #expect(eligible.contains(index), "step \(step) picked \(index)")
            }
        }
    }

    @Test("weights below 1 count as 1")
    func weightsClamped() {
        var balancer = SmoothWeightedRoundRobin(weights: [0, -3, 2])
        #expect(balancer.weights == [1, 1, 2])
        var counts = [0, 0, 0]
        for _ in 0..<40 {
            if let picked = balancer.pick(isEligible: { _ in true }) { counts[picked] += 1 }
        }
        #expect(counts == [10, 10, 20])
    }

    @Test("a single peer is always picked")
    func singlePeer() {
        var balancer = SmoothWeightedRoundRobin(weights: [3])
        #expect(Self.picks(&balancer, count: 5) == [0, 0, 0, 0, 0])
    }
}

@Suite("LeastConnections")
struct LeastConnectionsTests {
    @Test("equal weights: the fewest active connections wins")
    func fewestActive() {
        var balancer = LeastConnections(weights: [1, 1, 1])
        let active = [3, 1, 2]
        #expect(balancer.pick(active: { active[$0] }, isEligible: { _ in true }) == 1)
    }

    @Test(
        "weighted: the lowest active/weight wins",
        arguments: [
            ([4, 2], [4, 1], 0),  // 1.0 < 2.0
            ([5, 1], [4, 1], 1),  // 1.25 > 1.0
            ([9, 2], [10, 2], 0),  // 0.9 < 1.0
            ([0, 0, 1], [1, 1, 100], 0),  // 0 beats 0.01, tie between 0 and 1 broken by rotation (first pick: index 0)
            ([10, 10, 10], [1, 2, 3], 2),
        ]
    )
    func weighted(active: [Int], weights: [Int], expected: Int) {
        var balancer = LeastConnections(weights: weights)
        #expect(balancer.pick(active: { active[$0] }, isEligible: { _ in true }) == expected)
    }

    @Test("ties go to the heavier peer first, and alternate by weight while the tie lasts")
    func tiesByWeight() {
        var balancer = LeastConnections(weights: [1, 3])
        #expect(balancer.pick(active: { _ in 0 }, isEligible: { _ in true }) == 1)
        var balancer2 = LeastConnections(weights: [1, 3])
        var counts = [0, 0]
        for _ in 0..<40 {
            if let picked = balancer2.pick(active: { _ in 0 }, isEligible: { _ in true }) { counts[picked] += 1 }
        }
        #expect(counts == [10, 30])
    }

    @Test("a tie in ratio (not in count) is still a tie: 2/1 == 6/3")
    func ratioTie() {
        var balancer = LeastConnections(weights: [1, 3])
        let active = [2, 6]
        #expect(balancer.pick(active: { active[$0] }, isEligible: { _ in true }) == 1)
        var counts = [0, 0]
        var fresh = LeastConnections(weights: [1, 3])
        for _ in 0..<8 {
            if let picked = fresh.pick(active: { active[$0] }, isEligible: { _ in true }) { counts[picked] += 1 }
        }
        #expect(counts == [2, 6])
    }

    @Test("only the tied lowest peers share the picks")
    func onlyTiedShare() {
        var balancer = LeastConnections(weights: [1, 1, 1])
        let active = [1, 1, 5]
        var picks: [Int] = []
        for _ in 0..<6 {
            if let picked = balancer.pick(active: { active[$0] }, isEligible: { _ in true }) { picks.append(picked) }
        }
        #expect(picks == [0, 1, 0, 1, 0, 1])
    }

    @Test("ineligible peers are skipped even when they have the fewest connections")
    func ineligibleSkipped() {
        var balancer = LeastConnections(weights: [1, 1, 1])
        let active = [0, 7, 3]
        #expect(balancer.pick(active: { active[$0] }, isEligible: { $0 != 0 }) == 2)
        #expect(balancer.pick(active: { active[$0] }, isEligible: { $0 == 1 }) == 1)
    }

    @Test("nil when none is eligible or there are none")
    func noneEligible() {
        var balancer = LeastConnections(weights: [1, 2])
        #expect(balancer.pick(active: { _ in 0 }, isEligible: { _ in false }) == nil)
        var empty = LeastConnections(weights: [])
        #expect(empty.pick(active: { _ in 0 }, isEligible: { _ in true }) == nil)
    }

    @Test("opening connections as picked fills peers in proportion to weight", arguments: [[2, 1], [3, 2, 1], [1, 1, 1, 1], [5, 1, 1]])
    func fillsByWeight(weights: [Int]) {
        var balancer = LeastConnections(weights: weights)
        var active = [Int](repeating: 0, count: weights.count)
        let cycle = weights.reduce(0, +)
        for round in 1...10 {
            for _ in 0..<cycle {
                let snapshot = active
                guard let picked = balancer.pick(active: { snapshot[$0] }, isEligible: { _ in true }) else {
                    Issue.record("nil with every peer eligible")
                    return
                }
                active[picked] += 1
            }
            #expect(active == weights.map { $0 * round }, "after round \(round)")
        }
    }

    @Test("exposes its weights, below-1 weights counting as 1")
    func weightsExposed() {
        #expect(LeastConnections(weights: [2, 0, -1]).weights == [2, 1, 1])
    }
}

@Suite("Balancer: the configured method")
struct BalancerTests {
    @Test("round_robin is the smooth weighted round robin and ignores active counts")
    func roundRobin() {
        var balancer = Balancer(.roundRobin, weights: [5, 1, 1])
        var picks: [Int?] = []
        for step in 0..<14 {
            // Wildly varying active counts must not matter.
            picks.append(balancer.pick(active: { ($0 + 1) * 1_000 * (step % 3) }, isEligible: { _ in true }))
        }
        #expect(picks == [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0])
    }

    @Test("least_connections consults the active counts")
    func leastConnections() {
        var balancer = Balancer(.leastConnections, weights: [1, 1, 1])
        let active = [4, 2, 9]
        #expect(balancer.pick(active: { active[$0] }, isEligible: { _ in true }) == 1)
        #expect(balancer.pick(active: { active[$0] }, isEligible: { $0 != 1 }) == 0)
    }

    @Test("state is kept between picks", arguments: RoutingConfiguration.Balance.allCases)
    func keepsState(balance: RoutingConfiguration.Balance) {
        var balancer = Balancer(balance, weights: [1, 1, 1])
        var picks: [Int?] = []
        for _ in 0..<6 {
            picks.append(balancer.pick(active: { _ in 0 }, isEligible: { _ in true }))
        }
        #expect(picks == [0, 1, 2, 0, 1, 2])
    }

    @Test("nil when no peer is eligible, for both methods", arguments: RoutingConfiguration.Balance.allCases)
    func noneEligible(balance: RoutingConfiguration.Balance) {
        var balancer = Balancer(balance, weights: [1, 2, 3])
        #expect(balancer.pick(active: { _ in 0 }, isEligible: { _ in false }) == nil)
        var empty = Balancer(balance, weights: [])
        #expect(empty.pick(active: { _ in 0 }, isEligible: { _ in true }) == nil)
    }

    @Test("the configuration spellings")
    func rawValues() {
        #expect(RoutingConfiguration.Balance(rawValue: "round_robin") == .roundRobin)
        #expect(RoutingConfiguration.Balance(rawValue: "least_connections") == .leastConnections)
        #expect(RoutingConfiguration.Balance(rawValue: "random") == nil)
    }
}
