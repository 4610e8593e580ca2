/// Weighted least connections: the eligible peer with the lowest
/// `active / weight` (compared by cross-multiplication, no division), ties
/// broken by a smooth weighted round robin among the tied peers so equal
/// peers share load in proportion to their weights.
public struct LeastConnections: Sendable {
    private var tieBreaker: SmoothWeightedRoundRobin

    public init(weights: [Int]) {
        self.tieBreaker = SmoothWeightedRoundRobin(weights: weights)
    }

    public var weights: [Int] { self.tieBreaker.weights }

    public mutating func pick(active: (Int) -> Int, isEligible: (Int) -> Bool) -> Int? {
        let weights = self.tieBreaker.weights
        var bestActive = 0
        var bestWeight = 1
        var found = false
        for index in weights.indices where isEligible(index) {
            let load = active(index)
            if !found || load * bestWeight < bestActive * weights[index] {
                bestActive = load
                bestWeight = weights[index]
                found = true
            }
        }
        guard found else { return nil }
        return self.tieBreaker.pick { index in
            isEligible(index) && active(index) * bestWeight == bestActive * weights[index]
        }
    }
}
