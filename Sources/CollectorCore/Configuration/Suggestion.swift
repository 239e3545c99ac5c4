/// "Did you mean …?" for names typed in configuration.
package enum Suggestion {
    /// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
    package static func nearest(to name: String, in candidates: some Collection<String>) -> String? {
        let lower = name.lowercased()
        // A name that is the start of exactly one candidate (`tenant` → `tenant_id`) is taken first.
        if lower.count >= 3 {
            let prefixed = candidates.filter { $0.lowercased().hasPrefix(lower) && $0.lowercased() != lower }
            if prefixed.count == 1 { return prefixed[0] }
        }
        var best: (String, Int)?
        for candidate in candidates {
            let d = distance(lower, candidate.lowercased())
            if best == nil || d < best!.1 { best = (candidate, d) }
        }
        guard let (candidate, d) = best else { return nil }
        let limit = max(2, min(name.count, candidate.count) / 3)
        return d <= limit ? candidate : nil
    }

    /// Levenshtein distance.
    package static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
