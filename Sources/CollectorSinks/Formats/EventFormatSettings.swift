public import CollectorCore
public import EventFormats

/// A sink's `format:` (json, leef, cef, ocsf, ecs) and the settings block of that format
/// (`leef:`, `cef:`, `ocsf:`, `ecs:`), shared by every sink that writes events.
public struct EventFormatSettings: Sendable, Hashable {
    public var name: EventFormatName
    public var leef = LEEFFormat()
    public var cef = CEFFormat()
    public var ocsf = OCSFFormat()
    public var ecs = ECSFormat()

    public init(_ name: EventFormatName = .json) {
        self.name = name
    }

    /// The encoder of the chosen format.
    public var encoder: any EventEncoding {
        switch name {
        case .json: return JSONEventEncoder()
        case .leef: return LEEFEncoder(format: leef)
        case .cef: return CEFEncoder(format: cef)
        case .ocsf: return OCSFEncoder(format: ocsf)
        case .ecs: return ECSEncoder(format: ecs)
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, leef, cef, ocsf, ecs
    }

    /// Reads `format:` (`name` when the sink decoded it itself) and the chosen format's block
    /// from a sink's entry. A block for another format is an error, not silently ignored.
    init(from decoder: any Decoder, default defaultName: EventFormatName, name given: EventFormatName? = nil) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let given {
            name = given
        } else if let text = try c.decodeIfPresent(String.self, forKey: .format) {
            guard let parsed = EventFormatName(rawValue: text) else {
                let names = EventFormatName.allCases.map(\.rawValue)
                throw DecodingError.dataCorruptedError(
                    forKey: .format, in: c,
                    debugDescription: "unknown format '\(text)'"
                        + (Suggestion.nearest(to: text, in: names).map { "; did you mean '\($0)'?" } ?? "")
                        + " (formats: \(names.joined(separator: ", ")))")
            }
            name = parsed
        } else {
            name = defaultName
        }
        for (key, format) in [(CodingKeys.leef, EventFormatName.leef), (.cef, .cef), (.ocsf, .ocsf), (.ecs, .ecs)]
        where c.contains(key) && format != name {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c,
                debugDescription:
                    "'\(key.stringValue)' settings apply to format: \(key.stringValue); this sink's format "
                    + "is \(name.rawValue)")
        }
        leef = try c.decodeIfPresent(LEEFSettings.self, forKey: .leef)?.format ?? leef
        cef = try c.decodeIfPresent(CEFSettings.self, forKey: .cef)?.format ?? cef
        ocsf = try c.decodeIfPresent(OCSFSettings.self, forKey: .ocsf)?.format ?? ocsf
        ecs = try c.decodeIfPresent(ECSSettings.self, forKey: .ecs)?.format ?? ecs
    }

    /// The option every event-writing sink lists.
    static func option(default name: EventFormatName) -> PluginOption {
        PluginOption(
            "format", type: EventFormatName.allCases.map(\.rawValue).joined(separator: " | "), default: name.rawValue,
            "event format (README: Formats); its settings go in a block of the same name (cef: {...})")
    }
}
