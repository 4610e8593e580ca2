/// One admin response, whole.
struct AdminResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static let plainText = "text/plain; charset=utf-8"
    static let json = "application/json"
    static let html = "text/html; charset=utf-8"
    /// Prometheus text exposition format 0.0.4.
    static let prometheus = "text/plain; version=0.0.4; charset=utf-8"

    static func text(_ status: Int, _ text: String, headers: [(String, String)] = []) -> AdminResponse {
        AdminResponse(status: status, headers: [("Content-Type", AdminResponse.plainText)] + headers, body: Array(text.utf8))
    }

    static func json(_ status: Int, _ body: [UInt8]) -> AdminResponse {
        AdminResponse(status: status, headers: [("Content-Type", AdminResponse.json)], body: body)
    }

    static func methodNotAllowed(allow: String) -> AdminResponse {
        .text(405, "method not allowed\n", headers: [("Allow", allow)])
    }

    static let notFound = AdminResponse.text(404, "not found\n")

    static let unauthorized = AdminResponse.text(
        401, "unauthorized: send \"Authorization: Bearer <token>\" (the dashboard also takes ?token=<token>)\n",
        headers: [("WWW-Authenticate", "Bearer realm=\"switchyard-admin\"")])

    static let payloadTooLarge = AdminResponse.text(413, "request body too large\n")

    func header(_ name: String) -> String? {
        self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}
