/// Character-level checks for names that end up in HTTP messages, metric
/// labels or the environment.
enum ConfigSyntax {
    /// RFC 9110 `token`: HTTP method and header names, cookie names (RFC 6265).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9":
                return true
            case "!", "#", "$", "%", "&", "'", "*", "+", "-", ".", "^", "_", "`", "|", "~":
                return true
            default:
                return false
            }
        }
    }

    /// `[A-Za-z0-9_-]+`: replica names (SPEC §2), used as metric labels and in URLs.
    static func isReplicaName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-":
                return true
            default:
                return false
            }
        }
    }

    /// `[A-Za-z0-9_.-]+`: rule names, shown as `reason: rule:NAME` in logs,
    /// metric labels and the `X-Switchyard-Decision` header.
    static func isRuleName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".":
                return true
            default:
                return false
            }
        }
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`: a POSIX environment variable name.
    static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first else { return false }
        switch first {
        case "a"..."z", "A"..."Z", "_":
            break
        default:
            return false
        }
        return text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_":
                return true
            default:
                return false
            }
        }
    }

    /// RFC 6265 `path-value`: any CHAR but controls and `;`.
    static func isCookiePath(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            scalar.value >= 0x20 && scalar.value < 0x7F && scalar != ";"
        }
    }
}
