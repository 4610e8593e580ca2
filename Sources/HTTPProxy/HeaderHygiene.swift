import NIOHTTP1
import SwitchyardCore

/// Hop-by-hop header removal (RFC 9110 §7.6.1, SPEC §4) and the
/// `X-Switchyard-*` namespace rule, for both directions.
enum HeaderHygiene {
    /// Names that never cross the proxy (lower-cased).
    static let hopByHop: Set<String> = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]

    /// Removes hop-by-hop headers, the names `Connection` lists, `Proxy-*` and
    /// `X-Switchyard-*` headers.
    static func strip(_ headers: inout HTTPHeaders) {
        var listed: [String] = []
        for value in headers[canonicalForm: "connection"] {
            let token = value.lowercased()
            if !token.isEmpty {
                listed.append(token)
            }
        }
        var needsWork = !listed.isEmpty
        if !needsWork {
            for (name, _) in headers where self.isRemoved(name) {
                needsWork = true
                break
            }
        }
        guard needsWork else { return }
        var result = HTTPHeaders()
        result.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lower = name.lowercased()
            if self.isRemovedLowercased(lower) || listed.contains(lower) {
                continue
            }
            result.add(name: name, value: value)
        }
        headers = result
    }

    private static func isRemoved(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard let first = utf8.first else { return false }
        switch first | 0x20 {
        case UInt8(ascii: "c"), UInt8(ascii: "k"), UInt8(ascii: "t"), UInt8(ascii: "u"), UInt8(ascii: "p"), UInt8(ascii: "x"):
            return self.isRemovedLowercased(name.lowercased())
        default:
            return false
        }
    }

    private static func isRemovedLowercased(_ lower: String) -> Bool {
        self.hopByHop.contains(lower) || lower.hasPrefix("proxy-") || lower.hasPrefix("x-switchyard-")
    }
}
