public import CollectorCore

/// How events become Elastic Common Schema 8.x documents: the version stamped in `ecs.version`,
/// the namespace our own fields go under, whether the raw Graph document travels in
/// `event.original`, and the field map.
public struct ECSFormat: Sendable, Hashable {
    /// The ECS release the mapping follows (8.17.0, the last 8.x release).
    public var version: String
    /// Our own JSON form of each event goes under `<namespace>.<event_type>` (ECS's advice for
    /// custom fields: nest them under a name of your own), so nothing is lost against it.
    public var namespace: String
    /// The alert's Graph document as text in `event.original` (stored, not indexed).
    public var includeOriginal: Bool
    public var fields: JSONFieldMap

    public init(
        version: String = "8.17.0", namespace: String = "microsoft.graph", includeOriginal: Bool = true,
        fields: JSONFieldMap = JSONFieldMap()
    ) {
        self.version = version
        self.namespace = namespace
        self.includeOriginal = includeOriginal
        self.fields = fields
    }

    /// `event.severity` on the scale Elastic's own Microsoft integrations use; nil for unknown.
    static func severity(_ severity: Severity) -> Int? {
        switch severity.rawValue.lowercased() {
        case "informational", "low": return 21
        case "medium": return 47
        case "high": return 73
        case "critical": return 99
        default: return nil
        }
    }

    /// MITRE ATT&CK tactic ids of the Graph categories that are tactics.
    static let tactics: [String: String] = [
        "initialaccess": "TA0001", "execution": "TA0002", "persistence": "TA0003", "privilegeescalation": "TA0004",
        "defenseevasion": "TA0005", "credentialaccess": "TA0006", "discovery": "TA0007", "lateralmovement": "TA0008",
        "collection": "TA0009", "exfiltration": "TA0010", "commandandcontrol": "TA0011", "impact": "TA0040",
        "resourcedevelopment": "TA0042", "reconnaissance": "TA0043",
    ]
}
