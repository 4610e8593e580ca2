import SwitchyardCore

extension ProxySnapshot {
    /// Which replicas may take reads now: in rotation on `board` and with at
    /// least one app server up. The list lives in a stack buffer for the
    /// length of `body` (the request path allocates nothing for it).
    public func withReplicaAvailability<Result>(
        board: ReplicaStatusBoard, now: UInt64, _ body: (UnsafeBufferPointer<ReplicaAvailability>) -> Result
    ) -> Result {
        let replicas = self.configuration.replicas
        return withUnsafeTemporaryAllocation(of: ReplicaAvailability.self, capacity: replicas.count) { buffer in
            for (index, replica) in replicas.enumerated() {
                let entry = board.entry(replica.name)
                let anyUp = self.replicaServers[index].contains { $0.isUp(now: now) }
                buffer.initializeElement(at: index, to: ReplicaAvailability(usable: entry.inRotation && anyUp, replayLSN: entry.replayLSN))
            }
            defer { buffer.deinitialize() }
            return body(UnsafeBufferPointer(buffer))
        }
    }
}
