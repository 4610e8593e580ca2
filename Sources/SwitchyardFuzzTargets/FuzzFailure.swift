/// A broken invariant found by a fuzz target. The libFuzzer executables in
/// `deploy/fuzz` abort on it (so libFuzzer keeps the input); the tests fail
/// with its description.
public struct FuzzFailure: Error, Sendable, CustomStringConvertible {
    public var target: String
    public var message: String

    public init(target: String, message: String) {
        self.target = target
        self.message = message
    }

    public var description: String {
        "\(self.target): invariant broken: \(self.message)"
    }

    /// Throws when `condition` is false.
    static func check(_ condition: Bool, _ target: FuzzTarget, _ message: @autoclosure () -> String) throws(FuzzFailure) {
        guard condition else {
            throw FuzzFailure(target: target.rawValue, message: message())
        }
    }
}
