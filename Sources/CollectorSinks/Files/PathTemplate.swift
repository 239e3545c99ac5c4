public import CollectorCore

/// A file path with strftime fields (`%Y-%m-%d`) and event fields (`{event_type}`), confined
/// to a base directory: the template itself may not be absolute or contain `..`, and event
/// values are reduced to safe characters, so no event can make the sink write outside.
public struct PathTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Piece: Sendable, Hashable {
        case literal(String)
        case time(Character)
        case field(String)
    }

    /// Event fields a template may name.
    public static let fields = [
        "event_type", "kind", "severity", "tenant_id", "vendor", "provider", "status", "category",
    ]
    /// strftime conversions a template may use.
    public static let timeConversions: [Character: String] = [
        "Y": "year (2026)", "y": "year in century (26)", "m": "month (01-12)", "d": "day (01-31)",
        "H": "hour (00-23)", "M": "minute (00-59)", "S": "second (00-60)", "j": "day of year (001-366)",
        "%": "a literal %",
    ]

    let pieces: [Piece]
    public let description: String

    /// A template problem: what and where in the template.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(_ text: String) throws(Problem) {
        description = text
        guard !text.isEmpty else { throw Problem(description: "the path template is empty") }
        guard !text.hasPrefix("/") else {
            throw Problem(
                description: "the path template '\(text)' is absolute; it must be relative to the sink's directory")
        }
        var pieces: [Piece] = []
        var literal = ""
        var chars = Array(text)
        var i = 0
        func flush() {
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            literal = ""
        }
        while i < chars.count {
            let c = chars[i]
            if c == "%" {
                guard i + 1 < chars.count else { throw Problem(description: "the path template ends with a lone '%'") }
                let conv = chars[i + 1]
                guard PathTemplate.timeConversions[conv] != nil else {
                    throw Problem(
                        description:
                            "'%\(conv)' is not a supported time field; use one of \(PathTemplate.timeConversions.keys.sorted().map { "%\($0)" }.joined(separator: " "))"
                    )
                }
                if conv == "%" {
                    literal.append("%")
                } else {
                    flush()
                    pieces.append(.time(conv))
                }
                i += 2
            } else if c == "{" {
                guard let close = chars[i...].firstIndex(of: "}") else {
                    throw Problem(description: "'{' at position \(i + 1) is not closed")
                }
                let name = String(chars[(i + 1)..<close])
                guard PathTemplate.fields.contains(name) else {
                    let hint =
                        Suggestion.nearest(to: name, in: PathTemplate.fields).map { "; did you mean '{\($0)}'?" } ?? ""
                    throw Problem(
                        description:
                            "unknown event field '{\(name)}' in the path template\(hint) (fields: \(PathTemplate.fields.joined(separator: ", ")))"
                    )
                }
                flush()
                pieces.append(.field(name))
                i = close + 1
            } else {
                literal.append(c)
                i += 1
            }
        }
        flush()
        chars = []
        // Check the static parts: no '..' component and no empty name.
        let skeleton = pieces.map { piece -> String in
            if case .literal(let s) = piece { return s }
            return "x"
        }.joined()
        for component in skeleton.split(separator: "/", omittingEmptySubsequences: false) {
            if component == ".." {
                throw Problem(
                    description:
                        "the path template '\(text)' contains '..'; files must stay inside the sink's directory")
            }
        }
        guard !skeleton.hasSuffix("/") else {
            throw Problem(description: "the path template '\(text)' names a directory, not a file")
        }
        self.pieces = pieces
    }

    /// The relative path for an event at a time. Event values are made safe: anything but
    /// letters, digits, `.`, `_` and `-` becomes `_`, and a value may not be `.` or `..`.
    public func render(event: Event, time: Timestamp) -> String {
        let c = time.utcComponents
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let s): out += s
            case .time(let conv):
                switch conv {
                case "Y": out += pad(c.year, 4)
                case "y": out += pad(c.year % 100, 2)
                case "m": out += pad(c.month, 2)
                case "d": out += pad(c.day, 2)
                case "H": out += pad(c.hour, 2)
                case "M": out += pad(c.minute, 2)
                case "S": out += pad(c.second, 2)
                case "j": out += pad(c.dayOfYear, 3)
                default: break
                }
            case .field(let name):
                out += PathTemplate.sanitize(PathTemplate.value(of: name, in: event))
            }
        }
        return out
    }

    /// What a template may hold, for option listings.
    static var summary: String {
        "file path under directory: strftime %Y %m %d %H %M %S %j and "
            + fields.map { "{\($0)}" }.joined(separator: " ")
    }

    public var usesEventFields: Bool { pieces.contains { if case .field = $0 { return true } else { return false } } }

    static func value(of field: String, in event: Event) -> String? {
        switch (field, event) {
        case ("event_type", _): return event.eventType
        case ("kind", .alert(let a)): return a.kind.rawValue
        case ("severity", .alert(let a)): return a.severity.rawValue
        case ("tenant_id", .alert(let a)): return a.tenantId
        case ("tenant_id", .providerWarning(let w)): return w.tenantId
        case ("vendor", .alert(let a)): return a.vendor
        case ("vendor", .providerWarning(let w)): return w.vendor
        case ("provider", .alert(let a)): return a.provider
        case ("provider", .providerWarning(let w)): return w.provider
        case ("status", .alert(let a)): return a.status
        case ("category", .alert(let a)): return a.category
        default: return nil
        }
    }

    static func sanitize(_ value: String?) -> String {
        guard let value, !value.isEmpty else { return "unknown" }
        var s = String(
            value.unicodeScalars.prefix(100).map { scalar -> Character in
                let ok =
                    (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
                    || (scalar >= "0" && scalar <= "9")
                    || scalar == "." || scalar == "_" || scalar == "-"
                return ok ? Character(scalar) : "_"
            })
        if s == "." || s == ".." { s = "_" }
        return s
    }

    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
