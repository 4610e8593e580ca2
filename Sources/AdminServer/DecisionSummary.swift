/// One routing decision as the dashboard shows it: the fields of the SPEC §5
/// decision line. The app builds it from HTTPProxy's `DecisionRecord`
/// (AdminServer does not import HTTPProxy).
///
/// JSON: `{"at_ms":…,"method":"GET","path":"/items/7","client":"203.0.113.9","route":"replica",
/// "reason":"read","replica":"replica-a","server":"127.0.0.1:8011","pin":"none","lag_s":0.012,
/// "status":200,"attempts":1,"duration_ms":1.84,"pin_set":false}` (nulls explicit).
public struct DecisionSummary: Sendable, Hashable, Encodable {
    /// Unix time in milliseconds.
    public var atMillis: UInt64
    public var method: String
    /// Without the query string.
    public var path: String
    public var client: String
    /// `primary` or `replica`.
    public var route: String
    /// `write`, `read`, `pinned`, `pin-caught-up`, `no-replica`, `rule:NAME`.
    public var reason: String
    public var replica: String?
    /// Nil when the router answered itself.
    public var server: String?
    /// `none`, `valid`, `expired`, `invalid`.
    public var pin: String
    public var lagSeconds: Double?
    public var status: Int
    public var attempts: Int
    public var durationSeconds: Double
    public var pinSet: Bool

    public init(
        atMillis: UInt64, method: String, path: String, client: String, route: String, reason: String, replica: String?,
        server: String?, pin: String, lagSeconds: Double?, status: Int, attempts: Int, durationSeconds: Double,
        pinSet: Bool
    ) {
        self.atMillis = atMillis
        self.method = method
        self.path = path
        self.client = client
        self.route = route
        self.reason = reason
        self.replica = replica
        self.server = server
        self.pin = pin
        self.lagSeconds = lagSeconds
        self.status = status
        self.attempts = attempts
        self.durationSeconds = durationSeconds
        self.pinSet = pinSet
    }

    enum CodingKeys: String, CodingKey {
        case atMillis = "at_ms"
        case method
        case path
        case client
        case route
        case reason
        case replica
        case server
        case pin
        case lagSeconds = "lag_s"
        case status
        case attempts
        case durationMillis = "duration_ms"
        case pinSet = "pin_set"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.atMillis, forKey: .atMillis)
        try container.encode(self.method, forKey: .method)
        try container.encode(self.path, forKey: .path)
        try container.encode(self.client, forKey: .client)
        try container.encode(self.route, forKey: .route)
        try container.encode(self.reason, forKey: .reason)
        try container.encode(self.replica, forKey: .replica)
        try container.encode(self.server, forKey: .server)
        try container.encode(self.pin, forKey: .pin)
        try container.encode(AdminJSON.finite(self.lagSeconds), forKey: .lagSeconds)
        try container.encode(self.status, forKey: .status)
        try container.encode(self.attempts, forKey: .attempts)
        try container.encode(AdminJSON.finite((self.durationSeconds * 1_000_000).rounded() / 1000), forKey: .durationMillis)
        try container.encode(self.pinSet, forKey: .pinSet)
    }
}
