import SwitchyardCore

extension ProxySnapshot {
    /// Which replicas may take reads now: in rotation on `board` and with at
    /// least one app server up. The list lives in a stack buffer for the
    /// length of `body` (the request path allocates nothing for it).
    public func withReplicaAvailability<Result>(
        board: ReplicaStatusBoard, now: UInt64, _ body: (UnsafeBufferPointer<ReplicaAvailability>) -> Result
    ) -> Result {
        self.withReplicaAvailability(entries: self.configuration.replicas.map { board.entry($0.name) }, now: now, body)
    }

    /// The same from the board's entries in this snapshot's replica order
    /// (`ReplicaEntryCache`), as the request path has them.
    package func withReplicaAvailability<Result>(
        entries: [ReplicaStatusBoard.Entry], now: UInt64, _ body: (UnsafeBufferPointer<ReplicaAvailability>) -> Result
    ) -> Result {
        let count = min(entries.count, self.replicaServers.count)
        return withUnsafeTemporaryAllocation(of: ReplicaAvailability.self, capacity: count) { buffer in
            for index in 0..<count {
                let entry = entries[index]
                let anyUp = self.replicaServers[index].contains { $0.isUp(now: now) }
                buffer.initializeElement(at: index, to: ReplicaAvailability(usable: entry.inRotation && anyUp, replayLSN: entry.replayLSN))
            }
            defer { buffer.deinitialize() }
            return body(UnsafeBufferPointer(buffer))
        }
    }
}
