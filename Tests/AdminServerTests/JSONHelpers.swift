import Foundation
import SwitchyardTestSupport
import Testing

/// JSONSerialization views of a response body, for checking shapes key by key.
enum JSONHelpers {
    struct NotAnObject: Error, CustomStringConvertible {
        var context: String
        var description: String { "not a JSON object: \(self.context)" }
    }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try self.object(response.body)
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        guard let object = parsed as? [String: Any] else {
            throw NotAnObject(context: String(decoding: bytes, as: UTF8.self))
        }
        return object
    }

    static func object(_ value: Any?, _ context: String) throws -> [String: Any] {
        guard let object = value as? [String: Any] else { throw NotAnObject(context: context) }
        return object
    }

    static func objects(_ value: Any?, _ context: String) throws -> [[String: Any]] {
        guard let array = value as? [[String: Any]] else { throw NotAnObject(context: context) }
        return array
    }

    static func isNull(_ value: Any?) -> Bool {
        value is NSNull
    }
}
