public import CollectorCore
public import EventFormats

#if canImport(Glibc)
    import Glibc
#endif

/// The `leef:` block of a sink's configuration.
struct LEEFSettings: Decodable {
    var format: LEEFFormat

    enum CodingKeys: String, CodingKey {
        case version, delimiter, vendor, product
        case productVersion = "product_version"
        case eventID = "event_id"
        case providerWarningEventID = "provider_warning_event_id"
        case healthEventID = "health_event_id"
        case severityMap = "severity_map"
        case defaultSeverity = "default_severity"
        case devTimeFormat = "dev_time_format"
        case fields
        case rawFields = "raw_fields"
        case markTruncation = "mark_truncation"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var format = LEEFFormat()
        if let version = try c.decodeIfPresent(String.self, forKey: .version) {
            guard let v = LEEFFormat.Version(rawValue: version == "1" ? "1.0" : version == "2" ? "2.0" : version)
            else {
                throw DecodingError.dataCorruptedError(
                    forKey: .version, in: c,
                    debugDescription: "LEEF version is \"1.0\" or \"2.0\", not '\(version)'")
            }
            format.version = v
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .delimiter) {
            guard format.version == .v2 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .delimiter, in: c,
                    debugDescription: "LEEF 1.0 always uses a tab; a delimiter needs version \"2.0\"")
            }
            guard let d = LEEFFormat.parseDelimiter(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .delimiter, in: c,
                    debugDescription: "'\(text)' is not one ASCII character, 'tab', or hex like x5E")
            }
            format.delimiter = d
        }
        if format.version == .v1 { format.delimiter = 0x09 }
        format.vendor = try c.decodeIfPresent(String.self, forKey: .vendor) ?? format.vendor
        format.product = try c.decodeIfPresent(String.self, forKey: .product) ?? format.product
        format.productVersion = try c.decodeIfPresent(String.self, forKey: .productVersion) ?? format.productVersion
        format.alertEventID = try decodeTemplate(c, forKey: .eventID) ?? format.alertEventID
        format.providerWarningEventID =
            try c.decodeIfPresent(String.self, forKey: .providerWarningEventID) ?? format.providerWarningEventID
        format.healthEventID = try c.decodeIfPresent(String.self, forKey: .healthEventID) ?? format.healthEventID
        format.severityMap = try decodeSeverityMap(c, forKey: .severityMap, over: format.severityMap)
        format.defaultSeverity = try c.decodeIfPresent(Int.self, forKey: .defaultSeverity) ?? format.defaultSeverity
        format.devTimeFormat = try decodeJavaDate(c, forKey: .devTimeFormat) ?? format.devTimeFormat
        try Self.decodeFieldMaps(c, into: &format)
        format.markTruncation = try c.decodeIfPresent(Bool.self, forKey: .markTruncation) ?? true
        let problems = format.problems()
        if !problems.isEmpty {
            let first = problems[0]
            let key: CodingKeys =
                first.hasPrefix("delimiter")
                ? .delimiter
                : first.hasPrefix("severity_map")
                    ? .severityMap
                    : first.hasPrefix("default_severity")
                        ? .defaultSeverity : first.hasPrefix("raw_fields") ? .rawFields : .fields
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c, debugDescription: problems.joined(separator: "; "))
        }
        self.format = format
    }

    /// `fields` (rename or drop a built-in attribute) and `raw_fields` (add one from the
    /// alert's Graph JSON by pointer).
    static func decodeFieldMaps(_ c: KeyedDecodingContainer<CodingKeys>, into format: inout LEEFFormat) throws {
        format.fieldKeys = try decodeFieldKeys(c, forKey: .fields, as: LEEFField.self)
        format.rawFields += try decodeRawFields(c, forKey: .rawFields).map { (key: $0.0, pointer: $0.1) }
    }
}
