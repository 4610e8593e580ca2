/// nginx's smooth weighted round robin: each pick adds every eligible peer's
/// weight to its running score, takes the highest and subtracts the total.
/// Weights 5,1,1 give a a b a c a a (spread, not bursts). Ineligible peers
/// (down, out of rotation, already tried) are skipped without disturbing the
/// others' shares.
///
/// A value type owned by one event loop; no locks.
public struct SmoothWeightedRoundRobin: Sendable {
    public let weights: [Int]
    private var scores: [Int]

    public init(weights: [Int]) {
        self.weights = weights.map { max($0, 1) }
        self.scores = [Int](repeating: 0, count: weights.count)
    }

    public mutating func pick(isEligible: (Int) -> Bool) -> Int? {
        var best: Int? = nil
        var total = 0
        for index in self.weights.indices where isEligible(index) {
            self.scores[index] += self.weights[index]
            total += self.weights[index]
            if let current = best {
                if self.scores[index] > self.scores[current] { best = index }
            } else {
                best = index
            }
        }
        if let best {
            self.scores[best] -= total
        }
        return best
    }
}
