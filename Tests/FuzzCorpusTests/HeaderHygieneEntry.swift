@testable import HTTPProxy
import NIOHTTP1

/// One of the two places these tests reach into HTTPProxy (the other is
/// `UpstreamResponseEntry`): its header-hygiene function (internal to that
/// module). Adapt here if it moves or is renamed.
enum HeaderHygieneEntry {
    static func strip(_ headers: inout HTTPHeaders) {
        HeaderHygiene.strip(&headers)
    }
}
