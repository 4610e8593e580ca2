/// Every fuzz target: the input parsers of Switchyard (issue #7). The raw
/// value names the target's corpus folder (`deploy/fuzz/corpus/NAME`) and
/// its libFuzzer executable (`fuzz-NAME`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// YAML text → `ConfigLoader.parse` (configuration or positioned problems).
    case configLoader = "config-loader"
    /// A cookie value → `PinSigner.verify`, `PinToken(payload:)`, `Base64URL`.
    case pinToken = "pin-token"
    /// A `Cookie` header → `CookieHeader.value(named:in:)` and `pinStatus`.
    case cookieHeader = "cookie-header"
    /// Rules, a request, a pin and replicas → `RequestRouter.decide` (rules, regex, split).
    case ruleMatcher = "rule-matcher"
    /// A peer, `X-Forwarded-*` headers and trusted proxies → `ForwardedHeaders.compute`.
    case forwardedFor = "forwarded-for"
    /// One line of text → `LSN`, `IPAddress`, `CIDR`, `ServerAddress`, durations and sizes.
    case valueParsers = "value-parsers"
    /// Request or response headers → `HeaderHygiene.strip` (HTTPProxy; the strip
    /// function is passed in, see `FuzzTargets.headerHygiene(_:strip:)`).
    case headerHygiene = "header-hygiene"
    /// What an app server sends back → `UpstreamResponseParser` (HTTPProxy; the
    /// parser is driven by a closure passed in, see `FuzzTargets.upstreamResponse(_:parse:)`).
    case upstreamResponse = "upstream-response"
    /// What a client sends → `ClientRequestParser` (HTTPProxy; the parser is
    /// driven by a closure passed in, see `FuzzTargets.clientRequest(_:parse:)`).
    case clientRequest = "client-request"
}
