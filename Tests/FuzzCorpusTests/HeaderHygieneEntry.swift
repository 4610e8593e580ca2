@testable import HTTPProxy
import NIOHTTP1

/// The one place these tests reach into HTTPProxy: its header-hygiene
/// function (internal to that module). Adapt here if it moves or is renamed.
enum HeaderHygieneEntry {
    static func strip(_ headers: inout HTTPHeaders) {
        HeaderHygiene.strip(&headers)
    }
}
