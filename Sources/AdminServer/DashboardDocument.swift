/// `GET /dashboard.json`: what the dashboard page's script draws.
///
/// `{"generated_at_ms":…,"window_s":300,"status":{…/status…},"lag":[ReplicaLagSeries…],
/// "decisions":[DecisionSummary…]}` — lag points cover the last `window_s`
/// seconds (oldest first), decisions are the most recent, newest first.
struct DashboardDocument: Encodable {
    var generatedAtMillis: UInt64
    var windowSeconds: Int
    var status: StatusDocument
    var lag: [ReplicaLagSeries]
    var decisions: [DecisionSummary]

    init(
        generatedAtMillis: UInt64, windowMillis: UInt64, decisionLimit: Int, status: StatusDocument,
        lag: [ReplicaLagSeries], decisions: [DecisionSummary]
    ) {
        self.generatedAtMillis = generatedAtMillis
        self.windowSeconds = Int(windowMillis / 1000)
        self.status = status
        let start = generatedAtMillis > windowMillis ? generatedAtMillis - windowMillis : 0
        self.lag = lag.map { $0.since(start) }
        self.decisions = Array(decisions.suffix(max(0, decisionLimit)).reversed())
    }

    enum CodingKeys: String, CodingKey {
        case generatedAtMillis = "generated_at_ms"
        case windowSeconds = "window_s"
        case status
        case lag
        case decisions
    }
}
