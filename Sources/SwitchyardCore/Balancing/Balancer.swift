/// The configured balancing method over one list of peers (SPEC §2 `routing.balance`).
public struct Balancer: Sendable {
    private enum Method: Sendable {
        case roundRobin(SmoothWeightedRoundRobin)
        case leastConnections(LeastConnections)
    }

    private var method: Method

    public init(_ balance: RoutingConfiguration.Balance, weights: [Int]) {
        switch balance {
        case .roundRobin: self.method = .roundRobin(SmoothWeightedRoundRobin(weights: weights))
        case .leastConnections: self.method = .leastConnections(LeastConnections(weights: weights))
        }
    }

    /// Picks an eligible peer; `active` is only consulted for least connections.
    public mutating func pick(active: (Int) -> Int, isEligible: (Int) -> Bool) -> Int? {
        switch self.method {
        case .roundRobin(var state):
            let picked = state.pick(isEligible: isEligible)
            self.method = .roundRobin(state)
            return picked
        case .leastConnections(var state):
            let picked = state.pick(active: active, isEligible: isEligible)
            self.method = .leastConnections(state)
            return picked
        }
    }
}
