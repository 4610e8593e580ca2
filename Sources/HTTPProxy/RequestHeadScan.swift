import NIOHTTP1

/// One pass over a request's headers noting what the request path needs to
/// know, so it looks a header up (and allocates its values) only when the
/// request has it: most requests carry no Transfer-Encoding, Cookie, Expect,
/// Connection or X-Forwarded-* header.
struct RequestHeadScan {
    var hasTransferEncoding = false
    var hasContentLength = false
    var hostCount = 0
    /// The first `Host` value.
    var host: String?
    var hasCookie = false
    var hasExpect = false
    /// Any of `X-Forwarded-For`, `-Proto`, `-Host` or `X-Real-IP`.
    var hasForwarded = false
    /// The header lines' size on the wire: each `NAME: VALUE\r\n`.
    var headerBytes = 0
    /// A header name holds an underscore (dropped before the app, as nginx does).
    var hasUnderscoreName = false
    /// A `Connection` header (the names it lists are dropped too).
    var hasConnection = false

    init(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            self.headerBytes += name.utf8.count + value.utf8.count + 4
            if name.utf8.contains(UInt8(ascii: "_")) {
                self.hasUnderscoreName = true
            }
            switch name.utf8.count {
            case 4:
                if HeaderHygiene.equalsIgnoringCase(name, "host") {
                    self.hostCount += 1
                    if self.host == nil { self.host = value }
                }
            case 6:
                if HeaderHygiene.equalsIgnoringCase(name, "cookie") {
                    self.hasCookie = true
                } else if HeaderHygiene.equalsIgnoringCase(name, "expect") {
                    self.hasExpect = true
                }
            case 9:
                if HeaderHygiene.equalsIgnoringCase(name, "x-real-ip") { self.hasForwarded = true }
            case 10:
                if HeaderHygiene.equalsIgnoringCase(name, "connection") { self.hasConnection = true }
            case 14:
                if HeaderHygiene.equalsIgnoringCase(name, "content-length") { self.hasContentLength = true }
            case 15, 16:
                if HeaderHygiene.hasPrefixIgnoringCase(name, "x-forwarded-") { self.hasForwarded = true }
            case 17:
                if HeaderHygiene.equalsIgnoringCase(name, "transfer-encoding") {
                    self.hasTransferEncoding = true
                } else if HeaderHygiene.equalsIgnoringCase(name, "x-forwarded-proto") {
                    self.hasForwarded = true
                }
            default:
                break
            }
        }
    }
}
