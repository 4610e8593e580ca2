extension RuleMatch {
    /// True when every condition present holds. Methods compare exactly
    /// (HTTP methods are case-sensitive); headers by lower-cased name and exact value.
    /// The path prefix and header values compare byte for byte (UTF-8), as
    /// nginx does: a Swift `String` comparison would compare grapheme
    /// clusters under canonical equivalence, so `/admin` would not be a
    /// prefix of `/admin` + U+0301 (a combining accent after the `n` makes
    /// one cluster of it), and `café` would equal `cafe` + U+0301.
    public func matches(method: String, path: Substring, header: (String) -> String?) -> Bool {
        if let methods = self.methods, !methods.contains(method) {
            return false
        }
        if let prefix = self.pathPrefix, !path.utf8.starts(with: prefix.utf8) {
            return false
        }
        for condition in self.headers {
            guard let value = header(condition.name), value.utf8.elementsEqual(condition.value.utf8) else { return false }
        }
        if let regex = self.pathRegex, !regex.matches(path) {
            return false
        }
        return true
    }
}
