/// The servers one request has been sent to. Almost always none or one, so
/// the first is kept inline and only retries touch an array (a `Set` cost an
/// allocation per request).
struct TriedServers {
    private var first: ObjectIdentifier?
    private var more: [ObjectIdentifier] = []

    init() {}

    mutating func insert(_ server: ObjectIdentifier) {
        guard !self.contains(server) else { return }
        if self.first == nil {
            self.first = server
        } else {
            self.more.append(server)
        }
    }

    func contains(_ server: ObjectIdentifier) -> Bool {
        self.first == server || (!self.more.isEmpty && self.more.contains(server))
    }
}
