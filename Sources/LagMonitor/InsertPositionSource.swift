import Synchronization
import SwitchyardCore

/// `PrimaryPositionSource` over its own primary connection (so pins never
/// wait behind a lag poll). Concurrent requests share one query, but a query
/// is only shared by requests that arrived before it started: at most two
/// round trips for any write.
final class InsertPositionSource: PrimaryPositionSource {
    private struct State {
        var inFlight = false
        var next: [@Sendable (LSN?) -> Void] = []
        var timeout: Duration
    }

    private let poller: DatabasePoller
    private let state: Mutex<State>

    init(conninfo: String, timeout: Duration) {
        self.poller = DatabasePoller(name: "primary-pin", conninfo: conninfo)
        self.state = Mutex(State(timeout: timeout))
    }

    func setTimeout(_ timeout: Duration) {
        self.state.withLock { $0.timeout = timeout }
    }

    func requestInsertPosition(_ completion: @escaping @Sendable (LSN?) -> Void) {
        let start: (batch: [@Sendable (LSN?) -> Void], timeout: Duration)? = self.state.withLock { state in
            state.next.append(completion)
            guard !state.inFlight else { return nil }
            state.inFlight = true
            let batch = state.next
            state.next.removeAll()
            return (batch, state.timeout)
        }
        if let start {
            self.query(batch: start.batch, timeout: start.timeout)
        }
    }

    private func query(batch: [@Sendable (LSN?) -> Void], timeout: Duration) {
        self.poller.run(statement: PollQueries.insertPositionName, sql: PollQueries.insertPosition, timeout: timeout) { result in
            let position: LSN? =
                switch result {
                case .success(let rows): rows.first?.first.flatMap { $0.flatMap { LSN(parsing: $0) } }
                case .failure: nil
                }
            for waiter in batch {
                waiter(position)
            }
            let following: (batch: [@Sendable (LSN?) -> Void], timeout: Duration)? = self.state.withLock { state in
                guard !state.next.isEmpty else {
                    state.inFlight = false
                    return nil
                }
                let batch = state.next
                state.next.removeAll()
                return (batch, state.timeout)
            }
            if let following {
                self.query(batch: following.batch, timeout: following.timeout)
            }
        }
    }
}
