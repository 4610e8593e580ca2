import SwitchyardCore

extension ProxySnapshot {
    /// Which replicas may take reads now: in rotation on the replica board
    /// (`entries`: its entries in this snapshot's replica order, as
    /// `PublishedStateCache` keeps them) and with at least one app server up.
    /// The list lives in a stack buffer for the length of `body` (the request
    /// path allocates nothing for it).
    package func withReplicaAvailability<Result>(
        entries: [ReplicaStatusBoard.Entry], now: UInt64, _ body: (UnsafeBufferPointer<ReplicaAvailability>) -> Result
    ) -> Result {
        let count = min(entries.count, self.replicaPeers.count)
        return withUnsafeTemporaryAllocation(of: ReplicaAvailability.self, capacity: count) { buffer in
            for index in 0..<count {
                let entry = entries[index]
                let anyUp = self.replicaPeers[index].contains { $0.isUp(now: now) }
                buffer.initializeElement(at: index, to: ReplicaAvailability(usable: entry.inRotation && anyUp, replayLSN: entry.replayLSN))
            }
            defer { buffer.deinitialize() }
            return body(UnsafeBufferPointer(buffer))
        }
    }
}
