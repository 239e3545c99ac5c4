public import CollectorCore

/// How events become ArcSight CEF:0 payloads (the "Implementing ArcSight CEF" guide): the
/// header's vendor, product, version and signature, severity 0–10, dictionary keys where they
/// fit and `csN` custom strings with their labels for the rest, and a size limit honoured by
/// dropping the least important pairs first (like LEEF).
public struct CEFFormat: Sendable, Hashable {
    public var vendor: String
    public var product: String
    public var productVersion: String
    /// The signature (Device Event Class ID) of an alert: a template over its fields.
    public var alertSignature: EventIDTemplate
    public var providerWarningSignature: String
    public var healthSignature: String
    /// Graph severity (lowercase) to CEF severity (0–10).
    public var severityMap: [String: Int]
    public var defaultSeverity: Int
    /// nil: `rt`, `start` and `end` are epoch milliseconds. Otherwise a Java date pattern (UTC)
    /// from the guide's list, such as `MMM dd yyyy HH:mm:ss.SSS zzz`.
    public var timeFormat: JavaDateFormat?
    /// Built-in pairs renamed or left out: our field to CEF key, or nil to omit.
    public var fieldKeys: [CEFField: String?]
    /// Extra pairs read from the alert's raw Graph document: CEF key to JSON pointer.
    public var rawFields: [(key: String, pointer: JSONPointer)]
    /// Whether a truncated event says so (`cn3=<pairs dropped>` labelled `truncatedPairs`).
    public var markTruncation: Bool

    public init(
        vendor: String = "graph-collector", product: String = "Microsoft Graph Security",
        productVersion: String = "1.0",
        alertSignature: EventIDTemplate = EventIDTemplate.defaultAlert,
        providerWarningSignature: String = "ProviderWarning", healthSignature: String = "CollectorHealth",
        severityMap: [String: Int] = CEFFormat.defaultSeverityMap, defaultSeverity: Int = 0,
        timeFormat: JavaDateFormat? = nil, fieldKeys: [CEFField: String?] = [:],
        rawFields: [(key: String, pointer: JSONPointer)] = [], markTruncation: Bool = true
    ) {
        self.vendor = vendor
        self.product = product
        self.productVersion = productVersion
        self.alertSignature = alertSignature
        self.providerWarningSignature = providerWarningSignature
        self.healthSignature = healthSignature
        self.severityMap = severityMap
        self.defaultSeverity = defaultSeverity
        self.timeFormat = timeFormat
        self.fieldKeys = fieldKeys
        self.rawFields = rawFields
        self.markTruncation = markTruncation
    }

    /// informational 2, low 3, medium 5, high 8, unknown 0 (the guide's bands: 0–3 Low,
    /// 4–6 Medium, 7–8 High, 9–10 Very-High).
    public static let defaultSeverityMap: [String: Int] = [
        "informational": 2, "low": 3, "medium": 5, "high": 8, "unknown": 0,
    ]

    public static func == (lhs: CEFFormat, rhs: CEFFormat) -> Bool {
        lhs.vendor == rhs.vendor && lhs.product == rhs.product && lhs.productVersion == rhs.productVersion
            && lhs.alertSignature == rhs.alertSignature && lhs.providerWarningSignature == rhs.providerWarningSignature
            && lhs.healthSignature == rhs.healthSignature && lhs.severityMap == rhs.severityMap
            && lhs.defaultSeverity == rhs.defaultSeverity && lhs.timeFormat == rhs.timeFormat
            && lhs.fieldKeys == rhs.fieldKeys && lhs.markTruncation == rhs.markTruncation
            && lhs.rawFields.map(\.key) == rhs.rawFields.map(\.key)
            && lhs.rawFields.map(\.pointer) == rhs.rawFields.map(\.pointer)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(vendor)
        hasher.combine(product)
        hasher.combine(alertSignature)
    }

    /// The key a built-in field is written under, or nil when the configuration leaves it out.
    public func key(for field: CEFField) -> String? {
        if let configured = fieldKeys[field] { return configured }
        return field.defaultKey
    }

    /// Problems with the configured keys and severities, for the configuration's errors.
    public func problems() -> [String] {
        var problems: [String] = []
        for (name, value) in severityMap where !(0...10).contains(value) {
            problems.append("severity_map: \(name): \(value) is not between 0 and 10")
        }
        if !(0...10).contains(defaultSeverity) { problems.append("default_severity: must be between 0 and 10") }
        var seen: [String: String] = [:]
        let keys =
            CEFField.allCases.compactMap { f in key(for: f).map { ($0, f.rawValue) } }
            + rawFields.map { ($0.key, "raw_fields") }
        for (key, owner) in keys {
            if !Self.isValidKey(key) {
                problems.append("\(owner): '\(key)' is not a CEF key (letters and digits only)")
            }
            if let other = seen[key] { problems.append("\(owner): key '\(key)' is also used by \(other)") }
            seen[key] = owner
        }
        var configured: [(String, String)] = []
        for (field, key) in fieldKeys {
            if let key = key { configured.append((key, field.rawValue)) }
        }
        for (key, owner) in configured + rawFields.map({ ($0.key, "raw_fields") })
        where Self.reserved.contains(key) || key.hasSuffix("Label") {
            problems.append("\(owner): key '\(key)' is reserved (the truncation count, long alert ids, labels)")
        }
        return problems
    }

    /// Keys the encoder writes itself: `cn3` counts dropped pairs, `flexString2` holds alert ids
    /// longer than `externalId` takes.
    static let reserved: Set<String> = ["cn3", "flexString2"]

    /// The guide: keys are one alphanumeric word.
    public static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty
            && key.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
            }
    }
}

/// The alert fields the CEF encoder writes, with the dictionary key each goes to by default.
/// Custom strings carry their label (`cs1Label=tenantId cs1=…`).
public enum CEFField: String, Sendable, Hashable, CaseIterable {
    case rt, start, end, externalId, msg, cat, src, sourceIPv6, shost, suser, fname, filePath, fileHash, request
    case tenantId, provider, status, mitreTechniques, determination, incidentId
    case alertURL = "alertUrl"

    /// The dictionary key, or the custom string (`cs1`…`cs6`, `flexString1`, `c6a2`).
    public var defaultKey: String {
        switch self {
        case .sourceIPv6: return "c6a2"
        case .tenantId: return "cs1"
        case .provider: return "cs2"
        case .status: return "cs3"
        case .mitreTechniques: return "cs4"
        case .determination: return "cs5"
        case .incidentId: return "cs6"
        case .alertURL: return "flexString1"
        default: return rawValue
        }
    }

    /// The label written beside a custom key.
    var label: String? {
        switch self {
        case .sourceIPv6: return "Source IPv6 Address"
        case .tenantId, .provider, .status, .mitreTechniques, .determination, .incidentId, .alertURL: return rawValue
        default: return nil
        }
    }
}
