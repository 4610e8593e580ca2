/// One pure entry function per fuzz target. Each takes arbitrary bytes,
/// must neither crash nor hang on any of them, and checks invariants
/// beyond "no crash" where they are cheap; a broken one throws `FuzzFailure`.
public enum FuzzTargets {
    /// Runs `target` on `bytes`. `headerHygiene`, `upstreamResponse` and
    /// `clientRequest` need code of the HTTPProxy module (its strip function,
    /// its response and request parsers) and are run through
    /// `headerHygiene(_:strip:)`, `upstreamResponse(_:parse:)` and
    /// `clientRequest(_:parse:)` instead; here they are skipped.
    public static func run(_ target: FuzzTarget, _ bytes: UnsafeRawBufferPointer) throws(FuzzFailure) {
        switch target {
        case .configLoader: try self.configLoader(bytes)
        case .pinToken: try self.pinToken(bytes)
        case .cookieHeader: try self.cookieHeader(bytes)
        case .ruleMatcher: try self.ruleMatcher(bytes)
        case .forwardedFor: try self.forwardedFor(bytes)
        case .valueParsers: try self.valueParsers(bytes)
        case .headerHygiene, .upstreamResponse, .clientRequest: break
        }
    }

    /// `run` over an array (for tests and tools).
    public static func run(_ target: FuzzTarget, _ bytes: [UInt8]) throws(FuzzFailure) {
        let result: Result<Void, FuzzFailure> = bytes.withUnsafeBytes { raw in
            do throws(FuzzFailure) {
                try self.run(target, raw)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }
}
