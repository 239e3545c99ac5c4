/// NATS subjects: dot-separated tokens, where a filter's `*` matches one token and a final `>`
/// matches one or more. Pure; used to check a sink's subjects against a stream's before any
/// message is sent.
public enum NatsSubject {
    /// Why a subject is not one: nil when it is.
    public static func problem(with subject: String, wildcards: Bool) -> String? {
        guard !subject.isEmpty else { return "a subject may not be empty" }
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        for (i, token) in tokens.enumerated() {
            if token.isEmpty { return "'\(subject)' has an empty token (two dots, or a dot at an end)" }
            if token.contains(where: { $0 == " " || $0 == "\t" || $0.isNewline }) {
                return "'\(subject)' contains white space"
            }
            let wildcard = token == "*" || token == ">"
            if !wildcard && token.contains(where: { $0 == "*" || $0 == ">" }) {
                return "'\(subject)': '*' and '>' must be whole tokens"
            }
            if wildcard && !wildcards { return "'\(subject)': a published subject may not contain '\(token)'" }
            if token == ">" && i != tokens.count - 1 { return "'\(subject)': '>' must be the last token" }
        }
        return nil
    }

    /// True when `filter` (with `*` and `>`) takes every subject `pattern` stands for. In
    /// `pattern`, a token of `variable` may be any one token (a template's event field).
    public static func filter(_ filter: String, covers pattern: String, variable: String = "*") -> Bool {
        let f = filter.split(separator: ".", omittingEmptySubsequences: false)
        let p = pattern.split(separator: ".", omittingEmptySubsequences: false)
        for (i, token) in f.enumerated() {
            if token == ">" { return p.count > i }
            guard i < p.count else { return false }
            if token == "*" { continue }
            if p[i] == Substring(variable) || token != p[i] { return false }
        }
        return f.count == p.count
    }
}
