import CollectorCore
import EventFormats

/// Keys of a mapping the configuration names freely (`fields`, `raw_fields`, `severity_map`).
struct AnyFormatKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// `raw_fields: {key or path: /json/pointer}`.
func decodeRawFields<K: CodingKey>(_ c: KeyedDecodingContainer<K>, forKey key: K) throws -> [(String, JSONPointer)] {
    guard c.contains(key), try !c.decodeNil(forKey: key) else { return [] }
    let raw = try c.nestedContainer(keyedBy: AnyFormatKey.self, forKey: key)
    return try raw.allKeys.sorted { $0.stringValue < $1.stringValue }.map { name in
        let text = try raw.decode(String.self, forKey: name)
        guard let pointer = JSONPointer(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: name, in: raw,
                debugDescription: "'\(text)' is not a JSON pointer; write it like /evidence/0/ipAddress")
        }
        return (name.stringValue, pointer)
    }
}

/// `fields: {name: new name, or null to leave it out}`.
func decodeRenames<K: CodingKey>(_ c: KeyedDecodingContainer<K>, forKey key: K) throws -> [(
    AnyFormatKey, String?, KeyedDecodingContainer<AnyFormatKey>
)] {
    guard c.contains(key), try !c.decodeNil(forKey: key) else { return [] }
    let fields = try c.nestedContainer(keyedBy: AnyFormatKey.self, forKey: key)
    return try fields.allKeys.sorted { $0.stringValue < $1.stringValue }.map { name in
        (name, try fields.decodeNil(forKey: name) ? nil : try fields.decode(String.self, forKey: name), fields)
    }
}

/// `fields: {built-in field: key, or null to leave it out}` for the formats whose fields are an
/// enumeration (LEEF, CEF).
func decodeFieldKeys<K: CodingKey, F: RawRepresentable & CaseIterable & Hashable>(
    _ c: KeyedDecodingContainer<K>, forKey key: K, as: F.Type
) throws -> [F: String?] where F.RawValue == String {
    var result: [F: String?] = [:]
    for (name, value, container) in try decodeRenames(c, forKey: key) {
        guard let field = F(rawValue: name.stringValue) else {
            let names = F.allCases.map(\.rawValue)
            throw DecodingError.dataCorruptedError(
                forKey: name, in: container,
                debugDescription: "no built-in field '\(name.stringValue)'"
                    + (Suggestion.nearest(to: name.stringValue, in: names).map { "; did you mean '\($0)'?" }
                        ?? "; fields are " + names.joined(separator: ", ")))
        }
        result[field] = .some(value)
    }
    return result
}

/// `event_id: "{title}"`: a template over an alert's fields.
func decodeTemplate<K: CodingKey>(_ c: KeyedDecodingContainer<K>, forKey key: K) throws -> EventIDTemplate? {
    guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
    do { return try EventIDTemplate(text) } catch {
        throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: error.description)
    }
}

/// `severity_map: {high: 8}` merged over `map`, Graph severities lowercased.
func decodeSeverityMap<K: CodingKey>(
    _ c: KeyedDecodingContainer<K>, forKey key: K, over map: [String: Int]
) throws -> [String: Int] {
    var result = map
    for (name, value) in try c.decodeIfPresent([String: Int].self, forKey: key) ?? [:] {
        result[name.lowercased()] = value
    }
    return result
}

/// A Java date pattern (`MMM dd yyyy HH:mm:ss.SSS zzz`).
func decodeJavaDate<K: CodingKey>(_ c: KeyedDecodingContainer<K>, forKey key: K) throws -> JavaDateFormat? {
    guard let pattern = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
    do { return try JavaDateFormat(pattern) } catch {
        throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: error.description)
    }
}

/// The `cef:` block.
struct CEFSettings: Decodable {
    var format = CEFFormat()

    enum CodingKeys: String, CodingKey {
        case vendor, product
        case productVersion = "product_version"
        case eventID = "event_id"
        case providerWarningEventID = "provider_warning_event_id"
        case healthEventID = "health_event_id"
        case severityMap = "severity_map"
        case defaultSeverity = "default_severity"
        case timeFormat = "time_format"
        case fields
        case rawFields = "raw_fields"
        case markTruncation = "mark_truncation"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format.vendor = try c.decodeIfPresent(String.self, forKey: .vendor) ?? format.vendor
        format.product = try c.decodeIfPresent(String.self, forKey: .product) ?? format.product
        format.productVersion = try c.decodeIfPresent(String.self, forKey: .productVersion) ?? format.productVersion
        format.alertSignature = try decodeTemplate(c, forKey: .eventID) ?? format.alertSignature
        format.providerWarningSignature =
            try c.decodeIfPresent(String.self, forKey: .providerWarningEventID) ?? format.providerWarningSignature
        format.healthSignature = try c.decodeIfPresent(String.self, forKey: .healthEventID) ?? format.healthSignature
        format.severityMap = try decodeSeverityMap(c, forKey: .severityMap, over: format.severityMap)
        format.defaultSeverity = try c.decodeIfPresent(Int.self, forKey: .defaultSeverity) ?? format.defaultSeverity
        format.timeFormat = try decodeJavaDate(c, forKey: .timeFormat) ?? format.timeFormat
        format.fieldKeys = try decodeFieldKeys(c, forKey: .fields, as: CEFField.self)
        format.rawFields = try decodeRawFields(c, forKey: .rawFields).map { (key: $0.0, pointer: $0.1) }
        format.markTruncation = try c.decodeIfPresent(Bool.self, forKey: .markTruncation) ?? true
        let problems = format.problems()
        if !problems.isEmpty {
            let first = problems[0]
            let key: CodingKeys =
                first.hasPrefix("severity_map")
                ? .severityMap
                : first.hasPrefix("default_severity")
                    ? .defaultSeverity : first.hasPrefix("raw_fields") ? .rawFields : .fields
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c, debugDescription: problems.joined(separator: "; "))
        }
    }
}

/// The `fields:` and `raw_fields:` of the JSON formats: dotted paths.
func decodeJSONFieldMap<K: CodingKey>(_ c: KeyedDecodingContainer<K>, fields: K, rawFields: K) throws -> JSONFieldMap {
    var map = JSONFieldMap()
    for (key, value, _) in try decodeRenames(c, forKey: fields) { map.renamed[key.stringValue] = .some(value) }
    map.added = try decodeRawFields(c, forKey: rawFields).map { JSONFieldMap.AddedField(path: $0.0, pointer: $0.1) }
    return map
}

/// The `ocsf:` block.
struct OCSFSettings: Decodable {
    var format = OCSFFormat()

    enum CodingKeys: String, CodingKey {
        case version
        case includeRaw = "include_raw"
        case fields
        case rawFields = "raw_fields"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try c.decodeIfPresent(String.self, forKey: .version) {
            let versions = OCSFFormat.Version.allCases.map(\.rawValue)
            guard let version = OCSFFormat.Version(rawValue: text.split(separator: ".").count == 2 ? text + ".0" : text)
            else {
                throw DecodingError.dataCorruptedError(
                    forKey: .version, in: c,
                    debugDescription: "OCSF version '\(text)' is not one of \(versions.joined(separator: ", "))")
            }
            format.version = version
        }
        format.includeRaw = try c.decodeIfPresent(Bool.self, forKey: .includeRaw) ?? format.includeRaw
        format.fields = try decodeJSONFieldMap(c, fields: .fields, rawFields: .rawFields)
    }
}

/// The `ecs:` block.
struct ECSSettings: Decodable {
    var format = ECSFormat()

    enum CodingKeys: String, CodingKey {
        case namespace
        case includeOriginal = "include_original"
        case fields
        case rawFields = "raw_fields"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let namespace = try c.decodeIfPresent(String.self, forKey: .namespace) {
            let parts = namespace.split(separator: ".", omittingEmptySubsequences: false)
            guard !parts.isEmpty,
                parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } })
            else {
                throw DecodingError.dataCorruptedError(
                    forKey: .namespace, in: c,
                    debugDescription: "'\(namespace)' is not a dotted field name like microsoft.graph")
            }
            let taken = [
                "agent", "client", "cloud", "container", "destination", "dns", "ecs", "error", "event", "file", "group",
                "host", "http", "labels", "log", "message", "network", "observer", "organization", "process", "related",
                "rule", "server", "service", "source", "tags", "threat", "url", "user",
            ]
            guard let top = parts.first, !taken.contains(String(top)) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .namespace, in: c,
                    debugDescription: "'\(namespace)' would put our fields inside ECS's own '\(parts[0])'; "
                        + "use a name of your own, like microsoft.graph")
            }
            format.namespace = namespace
        }
        format.includeOriginal = try c.decodeIfPresent(Bool.self, forKey: .includeOriginal) ?? format.includeOriginal
        format.fields = try decodeJSONFieldMap(c, fields: .fields, rawFields: .rawFields)
    }
}
