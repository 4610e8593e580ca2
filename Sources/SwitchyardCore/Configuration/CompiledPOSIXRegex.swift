#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns a `regex_t`. Immutable after compilation; glibc's `regexec` is
/// thread-safe on a compiled pattern, hence `@unchecked Sendable`.
final class CompiledPOSIXRegex: @unchecked Sendable {
    private let regex: UnsafeMutablePointer<regex_t>

    init(_ pattern: String) throws {
        // Compile into a local first: only a successfully compiled pattern is
        // owned by the instance (and freed by deinit).
        let candidate = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let status = regcomp(candidate, pattern, REG_EXTENDED | REG_NOSUB)
        guard status == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            let length = regerror(status, candidate, &buffer, buffer.count)
            candidate.deallocate()
            let message = String(decoding: buffer.prefix(max(0, length - 1)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw PathRegex.CompileError(description: message.isEmpty ? "invalid regular expression" : message)
        }
        self.regex = candidate
    }

    func matches(_ text: String) -> Bool {
        regexec(self.regex, text, 0, nil, 0) == 0
    }

    deinit {
        regfree(self.regex)
        self.regex.deallocate()
    }
}
