@testable import HTTPProxy
import NIOHTTP1

/// One of the three places these tests reach into HTTPProxy (the others are
/// `UpstreamResponseEntry` and `ClientRequestEntry`): its header-hygiene
/// function (internal to that module). Adapt here if it moves or is renamed.
enum HeaderHygieneEntry {
    static func strip(_ headers: inout HTTPHeaders) {
        HeaderHygiene.strip(&headers)
    }
}
