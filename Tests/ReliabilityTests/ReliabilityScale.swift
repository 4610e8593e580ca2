#if canImport(Glibc)
import Glibc
#endif

/// Short form (CI, `swift test`) or long form (`SWITCHYARD_RELIABILITY=long`, deploy/reliability/run.sh):
/// one code path, every count and phase scaled here.
struct ReliabilityScale: Sendable {
    let name: String
    /// Concurrent load clients (requests in flight).
    let loadClients: Int
    /// How long each fault-under-load phase keeps the load running.
    let phase: Duration
    let slowlorisConnections: Int
    let idleConnections: Int
    let malformedRequests: Int
    let sigstopFor: Duration
    let reloads: Int
    let soak: Duration
    /// Seconds between lag episodes in the soak.
    let soakLagEvery: Duration

    static let short = ReliabilityScale(
        name: "short", loadClients: 100, phase: .seconds(4), slowlorisConnections: 300, idleConnections: 1_000,
        malformedRequests: 600, sigstopFor: .seconds(5), reloads: 5, soak: .seconds(20), soakLagEvery: .seconds(5))
    static let long = ReliabilityScale(
        name: "long", loadClients: 300, phase: .seconds(15), slowlorisConnections: 2_000, idleConnections: 10_000,
        malformedRequests: 10_000, sigstopFor: .seconds(30), reloads: 30, soak: .seconds(30 * 60), soakLagEvery: .seconds(60))

    static let current: ReliabilityScale = {
        let value = getenv("SWITCHYARD_RELIABILITY").map { String(cString: $0) } ?? ""
        return value == "long" ? .long : .short
    }()

    /// The soak can be shortened for a quicker long run: SWITCHYARD_SOAK_SECONDS.
    var soakDuration: Duration {
        if let raw = getenv("SWITCHYARD_SOAK_SECONDS"), let seconds = Int(String(cString: raw)), seconds > 0 {
            return .seconds(seconds)
        }
        return self.soak
    }
}
