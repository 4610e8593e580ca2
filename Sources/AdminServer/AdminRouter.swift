import Logging
import SwitchyardLogging

/// The admin endpoints (SPEC §7) as a pure function of the request and the
/// backend: no sockets, so every rule is testable directly.
///
/// | endpoint | methods | token |
/// | --- | --- | --- |
/// | `/healthz` | GET, HEAD | never |
/// | `/status`, `/metrics` | GET, HEAD | header |
/// | `/`, `/dashboard.json` | GET, HEAD | header or `?token=` |
/// | `/replicas/NAME/drain`, `/replicas/NAME/undrain` | POST | header |
///
/// With a token configured, every path but `/healthz` (unknown ones too) is 401
/// until the token is shown, so an unauthenticated caller learns nothing.
/// A drain/undrain POST whose `Origin` names another host than `Host` is 403
/// (a browser on another site cannot drive it, token or not).
struct AdminRouter: Sendable {
    let backend: any AdminBackend
    let metrics: SwitchyardMetrics
    let token: BearerToken?
    /// How much lag history `/dashboard.json` sends.
    let dashboardWindowMillis: UInt64
    /// How many recent decisions `/dashboard.json` sends.
    let dashboardDecisions: Int
    let logger: Logger

    func respond(to request: AdminRequest) -> AdminResponse {
        let path = request.path
        if path == "/healthz" {
            return self.readOnly(request) { self.healthz() }
        }
        let queryTokenAllowed = path == "/" || path == "/dashboard.json"
        guard self.isAuthorized(request, queryTokenAllowed: queryTokenAllowed) else {
            self.logger.debug("admin request refused: no valid token", metadata: ["path": "\(path)"])
            return .unauthorized
        }
        switch path {
        case "/":
            return self.readOnly(request) { self.dashboardPage() }
        case "/status":
            return self.readOnly(request) { self.encoded(self.backend.status()) }
        case "/metrics":
            return self.readOnly(request) {
                AdminResponse(status: 200, headers: [("Content-Type", AdminResponse.prometheus)], body: self.metrics.renderBytes())
            }
        case "/dashboard.json":
            return self.readOnly(request) { self.dashboardDocument() }
        default:
            if let (replica, drain) = AdminRouter.replicaAction(path) {
                guard request.method == "POST" else {
                    return .methodNotAllowed(allow: "POST")
                }
                guard !request.isCrossOrigin else {
                    // Without a token a page on another site could otherwise drain replicas (CSRF).
                    self.logger.warning(
                        "admin: cross-origin drain request refused",
                        metadata: ["origin": "\(request.origin ?? "")", "path": "\(path)"])
                    return .text(403, "cross-origin request refused\n")
                }
                return self.setDrained(replica: replica, drain: drain, peer: request.peer)
            }
            return .notFound
        }
    }

    /// GET and HEAD only (the listener drops the body of a HEAD answer).
    private func readOnly(_ request: AdminRequest, _ answer: () -> AdminResponse) -> AdminResponse {
        switch request.method {
        case "GET", "HEAD":
            return answer()
        default:
            return .methodNotAllowed(allow: "GET, HEAD")
        }
    }

    private func healthz() -> AdminResponse {
        self.backend.isShuttingDown ? .text(503, "shutting down\n") : .text(200, "ok\n")
    }

    func isAuthorized(_ request: AdminRequest, queryTokenAllowed: Bool) -> Bool {
        guard let token = self.token else { return true }
        if let header = request.authorization, let credential = BearerToken.credential(fromAuthorization: header) {
            return token.matches(Array(credential.utf8))
        }
        if queryTokenAllowed, let candidate = request.query["token"] {
            return token.matches(candidate)
        }
        return false
    }

    /// `/replicas/NAME/drain` → (NAME, true); `/replicas/NAME/undrain` → (NAME, false).
    static func replicaAction(_ path: String) -> (replica: String, drain: Bool)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, parts[1] == "replicas", !parts[2].isEmpty else { return nil }
        switch parts[3] {
        case "drain": return (String(parts[2]), true)
        case "undrain": return (String(parts[2]), false)
        default: return nil
        }
    }

    private func setDrained(replica: String, drain: Bool, peer: String?) -> AdminResponse {
        let known = drain ? self.backend.drain(replica: replica) : self.backend.undrain(replica: replica)
        guard known else {
            return self.encoded(ReplicaActionResult.unknown(replica), status: 404)
        }
        self.logger.notice(
            drain ? "replica drained by operator" : "replica undrained by operator",
            metadata: ["replica": "\(replica)", "peer": "\(peer ?? "unknown")"])
        return self.encoded(ReplicaActionResult.done(replica, drained: drain))
    }

    private func dashboardPage() -> AdminResponse {
        AdminResponse(
            status: 200,
            headers: [
                ("Content-Type", AdminResponse.html),
                ("Content-Security-Policy", DashboardPage.contentSecurityPolicy),
                ("Referrer-Policy", "no-referrer"),
                ("X-Frame-Options", "DENY"),
            ],
            body: DashboardPage.bytes)
    }

    private func dashboardDocument() -> AdminResponse {
        let document = DashboardDocument(
            generatedAtMillis: WallClock.nowMillis(), windowMillis: self.dashboardWindowMillis,
            decisionLimit: self.dashboardDecisions, status: self.backend.status(), lag: self.backend.lagHistory(),
            totals: self.backend.requestTotalsHistory(), decisions: self.backend.recentDecisions())
        return self.encoded(document)
    }

    private func encoded(_ value: some Encodable, status: Int = 200) -> AdminResponse {
        do {
            return .json(status, try AdminJSON.encode(value))
        } catch {
            self.logger.error("admin: could not encode a response", metadata: ["error": "\(error)"])
            return .text(500, "internal error\n")
        }
    }
}
