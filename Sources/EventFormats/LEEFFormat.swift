public import CollectorCore

/// How events become IBM LEEF (Log Event Extended Format) payloads: version, header fields,
/// delimiter, severity scale, time format, attribute mapping and size limit.
///
/// The defaults follow IBM's LEEF guide: UTF-8, `devTime` as epoch milliseconds, `sev` on
/// QRadar's 1–10 scale, IBM's predefined keys where they fit (`cat`, `src`, `usrName`,
/// `identHostName`, `url`, `policy`, `resource`) and camel-case custom keys for the rest.
public struct LEEFFormat: Sendable, Hashable {
    public enum Version: String, Sendable, Hashable, CaseIterable {
        case v1 = "1.0"
        case v2 = "2.0"
    }

    public var version: Version
    /// The attribute delimiter byte. LEEF 1.0 always uses a tab; LEEF 2.0 declares it in the header.
    public var delimiter: UInt8
    public var vendor: String
    public var product: String
    public var productVersion: String
    /// The EventID of an alert: a template over the alert's fields, see ``EventIDTemplate``.
    public var alertEventID: EventIDTemplate
    /// The EventID of a provider warning (distinct from every alert's).
    public var providerWarningEventID: String
    /// The EventID of a collector health event.
    public var healthEventID: String
    /// Graph severity (lowercase) to QRadar `sev` (1–10).
    public var severityMap: [String: Int]
    /// `sev` for a severity missing from ``severityMap``.
    public var defaultSeverity: Int
    /// nil: `devTime` is epoch milliseconds (QRadar needs no format). Otherwise a Java
    /// SimpleDateFormat pattern (UTC), sent as `devTimeFormat`.
    public var devTimeFormat: JavaDateFormat?
    /// Built-in attributes renamed or left out: field name to LEEF key, or nil to omit.
    public var fieldKeys: [LEEFField: String?]
    /// Extra attributes read from the alert's raw Graph document: LEEF key to JSON pointer.
    public var rawFields: [(key: String, pointer: JSONPointer)]
    /// Whether a truncated event says so with a `truncated` attribute (the number of attributes dropped).
    public var markTruncation: Bool

    public init(
        version: Version = .v2, delimiter: UInt8 = UInt8(ascii: "^"), vendor: String = "graph-collector",
        product: String = "Microsoft Graph Security", productVersion: String = "1.0",
        alertEventID: EventIDTemplate = EventIDTemplate.defaultAlert,
        providerWarningEventID: String = "ProviderWarning",
        healthEventID: String = "CollectorHealth", severityMap: [String: Int] = LEEFFormat.defaultSeverityMap,
        defaultSeverity: Int = 5, devTimeFormat: JavaDateFormat? = nil, fieldKeys: [LEEFField: String?] = [:],
        rawFields: [(key: String, pointer: JSONPointer)] = [], markTruncation: Bool = true
    ) {
        self.version = version
        self.delimiter = version == .v1 ? 0x09 : delimiter
        self.vendor = vendor
        self.product = product
        self.productVersion = productVersion
        self.alertEventID = alertEventID
        self.providerWarningEventID = providerWarningEventID
        self.healthEventID = healthEventID
        self.severityMap = severityMap
        self.defaultSeverity = defaultSeverity
        self.devTimeFormat = devTimeFormat
        self.fieldKeys = fieldKeys
        self.rawFields = rawFields
        self.markTruncation = markTruncation
    }

    /// informational 2, low 3, medium 5, high 8, unknown 4.
    public static let defaultSeverityMap: [String: Int] = [
        "informational": 2, "low": 3, "medium": 5, "high": 8, "unknown": 4,
    ]

    public static func == (lhs: LEEFFormat, rhs: LEEFFormat) -> Bool {
        lhs.version == rhs.version && lhs.delimiter == rhs.delimiter && lhs.vendor == rhs.vendor
            && lhs.product == rhs.product && lhs.productVersion == rhs.productVersion
            && lhs.alertEventID == rhs.alertEventID && lhs.providerWarningEventID == rhs.providerWarningEventID
            && lhs.healthEventID == rhs.healthEventID && lhs.severityMap == rhs.severityMap
            && lhs.defaultSeverity == rhs.defaultSeverity && lhs.devTimeFormat == rhs.devTimeFormat
            && lhs.fieldKeys == rhs.fieldKeys && lhs.markTruncation == rhs.markTruncation
            && lhs.rawFields.map(\.key) == rhs.rawFields.map(\.key)
            && lhs.rawFields.map(\.pointer) == rhs.rawFields.map(\.pointer)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(version)
        hasher.combine(delimiter)
        hasher.combine(vendor)
        hasher.combine(alertEventID)
    }

    /// Checks the format for problems a receiver would trip over: a delimiter that collides
    /// with the escape characters, keys outside `[A-Za-z0-9_.]`, two attributes with one key.
    /// Returns one message per problem.
    public func problems() -> [String] {
        var problems: [String] = []
        if version == .v2 {
            let d = delimiter
            if d == UInt8(ascii: "=") || d == UInt8(ascii: "\\") || d == 0x0A || d == 0x0D || d == 0 || d >= 0x80
                || (d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9"))
                || (d >= UInt8(ascii: "A") && d <= UInt8(ascii: "Z"))
                || (d >= UInt8(ascii: "a") && d <= UInt8(ascii: "z")) || d == UInt8(ascii: "_")
                || d == UInt8(ascii: ".")
            {
                problems.append(
                    "delimiter \(LEEFFormat.delimiterText(d)) cannot separate attributes: it is a key character, an "
                        + "escape character or not ASCII"
                )
            }
        }
        for (field, severity) in severityMap.sorted(by: { $0.key < $1.key }) where !(1...10).contains(severity) {
            problems.append("severity_map.\(field): \(severity) is outside QRadar's 1–10")
        }
        if !(1...10).contains(defaultSeverity) {
            problems.append("default_severity: \(defaultSeverity) is outside 1–10")
        }
        var seen: [String: String] = [:]
        func claim(_ key: String, by owner: String) {
            if !LEEFFormat.isValidKey(key) {
                problems.append("\(owner): key '\(key)' may only use letters, digits, '_' and '.'")
            } else if let other = seen[key] {
                problems.append(
                    "\(owner): key '\(key)' is already used by \(other); each key may appear once per event")
            } else {
                seen[key] = owner
            }
        }
        for field in LEEFField.allCases {
            if let key = key(for: field) { claim(key, by: "fields.\(field.rawValue)") }
        }
        for (key, _) in rawFields { claim(key, by: "raw_fields.\(key)") }
        if devTimeFormat != nil { claim("devTimeFormat", by: "dev_time_format") }
        if markTruncation { claim("truncated", by: "mark_truncation") }
        return problems
    }

    /// The LEEF key a built-in field is written under, or nil when it is left out.
    public func key(for field: LEEFField) -> String? {
        if let configured = fieldKeys[field] { return configured }
        return field.defaultKey
    }

    public static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 255
            && key.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
                    || b == 0x2E
            }
    }

    /// The delimiter as the LEEF 2.0 header declares it: the character when printable, else `xHH`.
    public static func delimiterText(_ d: UInt8) -> String {
        if d > 0x20 && d < 0x7F && d != UInt8(ascii: "|") { return String(UnicodeScalar(d)) }
        let hex = String(d, radix: 16, uppercase: true)
        return "x" + (hex.count == 1 ? "0" + hex : hex)
    }

    /// Parses a configured delimiter: one ASCII character, `tab`, or hex `xHH`/`0xHH`.
    public static func parseDelimiter(_ text: String) -> UInt8? {
        if text == "tab" || text == "\t" { return 0x09 }
        if text.utf8.count == 1, let b = text.utf8.first, b < 0x80 { return b }
        var hex = Substring(text)
        if hex.hasPrefix("0x") || hex.hasPrefix("0X") {
            hex = hex.dropFirst(2)
        } else if hex.hasPrefix("x") || hex.hasPrefix("X") {
            hex = hex.dropFirst()
        } else {
            return nil
        }
        guard (1...4).contains(hex.count), let value = UInt32(hex, radix: 16), value < 0x80 else { return nil }
        return UInt8(value)
    }
}

/// A JSON pointer (RFC 6901) into an alert's raw Graph document: `/evidence/0/ipAddress`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public var tokens: [String]
    public var description: String {
        tokens.isEmpty
            ? ""
            : "/"
                + tokens.map { $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
                .joined(separator: "/")
    }

    public init?(_ text: String) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else { return nil }
        tokens = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    public func resolve(in value: JSONValue) -> JSONValue? {
        resolve(tokens[...], in: value)
    }

    private func resolve(_ tokens: ArraySlice<String>, in value: JSONValue) -> JSONValue? {
        var current = value
        for token in tokens {
            switch current {
            case .object:
                guard let next = current[token] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    /// The pointer resolved in a document kept as text: only the first token's member is parsed.
    public func resolve(in raw: RawJSON) -> JSONValue? {
        guard let first = tokens.first else { return raw.value }
        guard let member = raw.member(first) else { return nil }
        return resolve(tokens.dropFirst(), in: member)
    }
}

/// An alert's EventID, built from a template such as `{title}` or `{category}-{severity}`.
/// Placeholders: `{title}`, `{category}`, `{kind}`, `{severity}`, `{provider}`, `{vendor}`,
/// `{status}`, `{detection_source}`, `{service_source}`, `{detector_id}`. Empty values read
/// `unknown`. The result is cut to 255 characters, IBM's limit.
public struct EventIDTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Piece: Sendable, Hashable {
        case literal(String)
        case field(String)
    }

    public static let placeholders = [
        "title", "category", "kind", "severity", "provider", "vendor", "status",
        "detection_source", "service_source", "detector_id",
    ]
    public static let defaultAlert = try! EventIDTemplate("{title}")

    let pieces: [Piece]
    public let description: String

    public init(_ text: String) throws(FormatError) {
        description = text
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { pieces.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw FormatError("event ID template '\(text)': '{' without '}'")
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard Self.placeholders.contains(name) else {
                throw FormatError(
                    "event ID template '\(text)': unknown placeholder {\(name)}\(Suggestion.nearest(to: name, in: Self.placeholders).map { "; did you mean {\($0)}?" } ?? "; use one of " + Self.placeholders.map { "{\($0)}" }.joined(separator: " "))"
                )
            }
            pieces.append(.field(name))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        guard !pieces.isEmpty else { throw FormatError("event ID template is empty") }
        self.pieces = pieces
    }

    public func render(_ alert: SecurityAlert) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let text): out += text
            case .field(let name):
                let value: String?
                switch name {
                case "title": value = alert.title
                case "category": value = alert.category
                case "kind": value = alert.kind.rawValue
                case "severity": value = alert.severity.rawValue
                case "provider": value = alert.provider
                case "vendor": value = alert.vendor
                case "status": value = alert.status
                case "detection_source": value = alert.detectionSource
                case "service_source": value = alert.serviceSource
                case "detector_id": value = alert.raw.member("detectorId")?.scalarText
                default: value = nil
                }
                out += (value?.isEmpty == false ? value! : "unknown")
            }
        }
        return out
    }
}

/// A problem with a format's settings.
public struct FormatError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
