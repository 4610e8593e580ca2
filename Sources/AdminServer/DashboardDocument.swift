/// `GET /dashboard.json`: what the dashboard page's script draws.
///
/// `{"generated_at_ms":…,"window_s":300,"status":{…/status…},"lag":[ReplicaLagSeries…],
/// "totals":RequestTotalsSeries,"decisions":[DecisionSummary…]}` — lag points and
/// totals samples cover the last `window_s` seconds (oldest first; totals thinned to
/// one sample per ``totalsSpacingMillis``), decisions are the most recent, newest first.
struct DashboardDocument: Encodable {
    /// The spacing of the totals samples sent: the page averages rates over ~5 s, so
    /// one sample a second is plenty (and keeps a 2-second refresh small whatever the poll interval).
    static let totalsSpacingMillis: UInt64 = 1000

    var generatedAtMillis: UInt64
    var windowSeconds: Int
    var status: StatusDocument
    var lag: [ReplicaLagSeries]
    var totals: RequestTotalsSeries
    var decisions: [DecisionSummary]

    init(
        generatedAtMillis: UInt64, windowMillis: UInt64, decisionLimit: Int, status: StatusDocument,
        lag: [ReplicaLagSeries], totals: RequestTotalsSeries, decisions: [DecisionSummary]
    ) {
        self.generatedAtMillis = generatedAtMillis
        self.windowSeconds = Int(windowMillis / 1000)
        self.status = status
        let start = generatedAtMillis > windowMillis ? generatedAtMillis - windowMillis : 0
        self.lag = lag.map { $0.since(start) }
        self.totals = totals.since(start).thinned(spacingMillis: Self.totalsSpacingMillis)
        self.decisions = Array(decisions.suffix(max(0, decisionLimit)).reversed())
    }

    enum CodingKeys: String, CodingKey {
        case generatedAtMillis = "generated_at_ms"
        case windowSeconds = "window_s"
        case status
        case lag
        case totals
        case decisions
    }
}
