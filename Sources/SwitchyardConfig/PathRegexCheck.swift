import SwitchyardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Compiles a `path_regex` the way `PathRegex` does (POSIX extended,
/// `REG_NOSUB`) and returns regcomp's message when it is invalid.
///
/// Checked here, before `PathRegex.init` is called, because that
/// initialiser currently frees its `regex_t` twice when compilation fails
/// (reported to the SwitchyardCore owners); with the pattern known to be
/// valid it is never on that path.
enum PathRegexCheck {
    static func error(in pattern: String) -> String? {
        guard !pattern.unicodeScalars.contains("\0") else {
            return "contains a NUL character"
        }
        // Before regcomp, which would take all the memory it can get for such a pattern.
        guard PathRegex.expandedSize(of: pattern) <= PathRegex.maximumExpandedSize else {
            return PathRegex.tooLargeMessage
        }
        guard !PathRegex.hasBackReference(pattern) else {
            return PathRegex.backReferenceMessage
        }
        guard !PathRegex.hasStackedRepetition(pattern) else {
            return PathRegex.stackedRepetitionMessage
        }
        var regex = regex_t()
        let status = regcomp(&regex, pattern, REG_EXTENDED | REG_NOSUB)
        guard status != 0 else {
            regfree(&regex)
            return nil
        }
        var buffer = [CChar](repeating: 0, count: 256)
        let length = regerror(status, &regex, &buffer, buffer.count)
        let bytes = buffer.prefix(max(0, min(length, buffer.count) - 1)).map { UInt8(bitPattern: $0) }
        let message = String(decoding: bytes, as: UTF8.self)
        return message.isEmpty ? "invalid regular expression" : message
    }
}
