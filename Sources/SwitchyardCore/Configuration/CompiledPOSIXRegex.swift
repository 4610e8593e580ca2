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
        guard !pattern.utf8.contains(0) else {
            throw PathRegex.CompileError(description: "NUL byte in pattern")
        }
        guard PathRegex.expandedSize(of: pattern) <= PathRegex.maximumExpandedSize else {
            throw PathRegex.CompileError(description: PathRegex.tooLargeMessage)
        }
        guard !PathRegex.hasBackReference(pattern) else {
            throw PathRegex.CompileError(description: PathRegex.backReferenceMessage)
        }
        guard !PathRegex.hasStackedRepetition(pattern) else {
            throw PathRegex.CompileError(description: PathRegex.stackedRepetitionMessage)
        }
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
        var text = text
        return text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                // REG_STARTEND: match exactly these bytes, NULs included.
                var range = regmatch_t(rm_so: 0, rm_eo: regoff_t(chars.count))
                guard let base = chars.baseAddress else { return regexec(self.regex, "", 0, nil, 0) == 0 }
                return regexec(self.regex, base, 1, &range, REG_STARTEND) == 0
            }
        }
    }

    deinit {
        regfree(self.regex)
        self.regex.deallocate()
    }
}
