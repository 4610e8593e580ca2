/// "did you mean ...?" for a mistyped key.
enum KeySuggestion {
    /// The candidate closest to `key` when its distance is at most 2 (and
    /// smaller than the key itself, so that `ab` does not suggest `ttl`).
    /// Ties go to the earlier candidate.
    static func closest(to key: String, among candidates: [String]) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = KeySuggestion.distance(key.lowercased(), candidate)
            guard distance <= 2, distance < max(key.count, 1) else { continue }
            if let current = best, current.distance <= distance { continue }
            best = (candidate, distance)
        }
        return best?.candidate
    }

    /// Optimal-string-alignment distance: insertions, deletions,
    /// substitutions and transpositions of two neighbours each cost 1,
    /// so `lsiten` is 1 away from `listen`.
    static func distance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs.unicodeScalars)
        let b = Array(rhs.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { matrix[i][0] = i }
        for j in 0...b.count { matrix[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(matrix[i - 1][j] + 1, matrix[i][j - 1] + 1, matrix[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, matrix[i - 2][j - 2] + 1)
                }
                matrix[i][j] = value
            }
        }
        return matrix[a.count][b.count]
    }
}
