public import CollectorCore
import NatsClient

/// A NATS subject with event fields, as json-file paths have them: `graph.{event_type}.{severity}`.
/// A field's value becomes part of one token: anything but letters, digits, `_` and `-` becomes
/// `_` (so a value can never add a token or a wildcard), and an absent value is `unknown`.
public struct SubjectTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Piece: Sendable, Hashable {
        case literal(String)
        case field(String)
    }

    let pieces: [Piece]
    public let description: String

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(_ text: String) throws(Problem) {
        description = text
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { pieces.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw Problem(description: "'{' in the subject '\(text)' is not closed")
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard PathTemplate.fields.contains(name) else {
                let hint =
                    Suggestion.nearest(to: name, in: PathTemplate.fields).map { "; did you mean '{\($0)}'?" } ?? ""
                throw Problem(
                    description: "unknown event field '{\(name)}' in the subject\(hint) (fields: "
                        + PathTemplate.fields.joined(separator: ", ") + ")")
            }
            pieces.append(.field(name))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        self.pieces = pieces
        for case .literal(let s) in pieces where s.contains(where: { $0 == "*" || $0 == ">" }) {
            throw Problem(
                description: "the subject '\(text)' contains a wildcard; messages are published to one subject")
        }
        if let problem = NatsSubject.problem(with: pattern, wildcards: true) {
            throw Problem(description: "the subject '\(text)' is not a NATS subject: \(problem)")
        }
    }

    /// The template with each token that holds a field written `*`: what the subjects it makes
    /// look like to a stream's filters.
    public var pattern: String {
        let skeleton = pieces.map { piece -> String in
            if case .literal(let s) = piece { return s }
            return "\u{1}"
        }.joined()
        return skeleton.split(separator: ".", omittingEmptySubsequences: false)
            .map { $0.contains("\u{1}") ? "*" : String($0) }.joined(separator: ".")
    }

    /// The subject of one event.
    public func render(_ event: Event) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let s): out += s
            case .field(let name): out += Self.token(PathTemplate.value(of: name, in: event))
            }
        }
        return out
    }

    static func token(_ value: String?) -> String {
        guard let value, !value.isEmpty else { return "unknown" }
        return String(
            value.unicodeScalars.prefix(100).map { scalar -> Character in
                let ok =
                    (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
                    || (scalar >= "0" && scalar <= "9") || scalar == "_" || scalar == "-"
                return ok ? Character(scalar) : "_"
            })
    }
}
