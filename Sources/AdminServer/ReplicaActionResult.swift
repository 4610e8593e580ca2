/// The body of a drain/undrain answer: `{"replica":"replica-a","drained":true}`,
/// or for an unknown name (404) `{"replica":"nope","error":"unknown replica"}`.
enum ReplicaActionResult: Encodable {
    case done(String, drained: Bool)
    case unknown(String)

    enum CodingKeys: String, CodingKey {
        case replica
        case drained
        case error
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .done(let replica, let drained):
            try container.encode(replica, forKey: .replica)
            try container.encode(drained, forKey: .drained)
        case .unknown(let replica):
            try container.encode(replica, forKey: .replica)
            try container.encode("unknown replica", forKey: .error)
        }
    }
}
