import SwitchyardCore
import Yams

extension ConfigBuilder {
    static let lagKeys = [
        "poll_interval", "max_lag", "max_lag_bytes", "readmit_below", "readmit_after", "query_timeout", "unreachable_after",
    ]

    mutating func lag(_ node: ConfigNode?) -> LagConfiguration {
        var lag = LagConfiguration()
        guard let node, let fields = self.mapping(node, keys: ConfigBuilder.lagKeys) else {
            return lag
        }
        if let node = fields["poll_interval"], let value = self.duration(node) {
            lag.pollInterval = value
        }
        let maxLagNode = fields["max_lag"]
        var maxLagIsValid = true
        if let node = maxLagNode {
            if let value = self.duration(node) {
                lag.maxLag = value
            } else {
                maxLagIsValid = false
            }
        }
        if let node = fields["max_lag_bytes"], let value = self.size(node) {
            lag.maxLagBytes = value
        }
        let readmitBelowNode = fields["readmit_below"]
        var readmitBelowIsValid = true
        if let node = readmitBelowNode {
            if let value = self.duration(node) {
                lag.readmitBelow = value
            } else {
                readmitBelowIsValid = false
            }
        }
        if let node = fields["readmit_after"], let value = self.integer(node, in: 1...Int.max) {
            lag.readmitAfter = value
        }
        if let node = fields["query_timeout"], let value = self.duration(node) {
            lag.queryTimeout = value
        }
        if let node = fields["unreachable_after"], let value = self.integer(node, in: 1...Int.max) {
            lag.unreachableAfter = value
        }
        if maxLagIsValid, readmitBelowIsValid, lag.readmitBelow > lag.maxLag {
            let maxLagText = maxLagNode?.scalarText ?? "5s, the default"
            if let node = readmitBelowNode {
                self.report("\(node.path) (\(node.scalarText ?? "")) must not exceed lag.max_lag (\(maxLagText))", at: node.mark)
            } else if let node = maxLagNode {
                self.report("\(node.path) (\(maxLagText)) must not be below lag.readmit_below (2s, the default)", at: node.mark)
            }
        }
        return lag
    }
}
