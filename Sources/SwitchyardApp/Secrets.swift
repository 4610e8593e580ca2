#if canImport(Glibc)
import Glibc
#endif
import SwitchyardCore

/// Secrets named by the configuration, read from the environment at start-up
/// (never from the file, never logged).
public struct Secrets: Sendable {
    public var pinKey: [UInt8]
    /// True when no pin secret was set and a random per-process key is used.
    public var pinKeyIsRandom: Bool
    public var adminToken: String?

    public init(pinKey: [UInt8], pinKeyIsRandom: Bool, adminToken: String?) {
        self.pinKey = pinKey
        self.pinKeyIsRandom = pinKeyIsRandom
        self.adminToken = adminToken
    }

    public enum Failure: Error, CustomStringConvertible {
        case adminTokenUnset(variable: String)

        public var description: String {
            switch self {
            case .adminTokenUnset(let variable):
                "admin.token_env names \(variable), which is not set in the environment"
            }
        }
    }

    public static func resolve(_ configuration: SwitchyardConfiguration, environment: [String: String]) throws -> Secrets {
        var adminToken: String? = nil
        if let admin = configuration.admin, let variable = admin.tokenEnv {
            guard let token = environment[variable], !token.isEmpty else {
                throw Failure.adminTokenUnset(variable: variable)
            }
            adminToken = token
        }
        let (pinKey, isRandom) = Self.pinKey(configuration, environment: environment)
        return Secrets(pinKey: pinKey, pinKeyIsRandom: isRandom, adminToken: adminToken)
    }

    /// The pin HMAC key: the secret named by `pin.secret_env`, or a random key (flagged) when unset.
    public static func pinKey(_ configuration: SwitchyardConfiguration, environment: [String: String]) -> (key: [UInt8], isRandom: Bool) {
        if let secret = environment[configuration.pin.secretEnv], !secret.isEmpty {
            return (Array(secret.utf8), false)
        }
        return (PinSigner.randomKey(), true)
    }

    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(decoding: UnsafeRawBufferPointer(start: entry, count: strlen(entry)), as: UTF8.self)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
