extension RuleMatch {
    /// True when every condition present holds. Methods compare exactly
    /// (HTTP methods are case-sensitive); headers by lower-cased name and exact value.
    public func matches(method: String, path: Substring, header: (String) -> String?) -> Bool {
        if let methods = self.methods, !methods.contains(method) {
            return false
        }
        if let prefix = self.pathPrefix, !path.hasPrefix(prefix) {
            return false
        }
        for condition in self.headers {
            guard header(condition.name) == condition.value else { return false }
        }
        if let regex = self.pathRegex, !regex.matches(path) {
            return false
        }
        return true
    }
}
