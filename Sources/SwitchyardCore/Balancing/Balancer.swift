/// The configured balancing method over one list of peers (SPEC §2 `routing.balance`).
///
/// Both states are stored as plain properties and mutated in place: an enum
/// with associated values had to be copied out and back on every pick, which
/// copied the scores array (an allocation per request).
public struct Balancer: Sendable {
    private let balance: RoutingConfiguration.Balance
    private var roundRobin: SmoothWeightedRoundRobin
    private var leastConnections: LeastConnections

    public init(_ balance: RoutingConfiguration.Balance, weights: [Int]) {
        self.balance = balance
        switch balance {
        case .roundRobin:
            self.roundRobin = SmoothWeightedRoundRobin(weights: weights)
            self.leastConnections = LeastConnections(weights: [])
        case .leastConnections:
            self.roundRobin = SmoothWeightedRoundRobin(weights: [])
            self.leastConnections = LeastConnections(weights: weights)
        }
    }

    /// Picks an eligible peer; `active` is only consulted for least connections.
    public mutating func pick(active: (Int) -> Int, isEligible: (Int) -> Bool) -> Int? {
        switch self.balance {
        case .roundRobin: self.roundRobin.pick(isEligible: isEligible)
        case .leastConnections: self.leastConnections.pick(active: active, isEligible: isEligible)
        }
    }
}
