public import CollectorCore

/// How events become OCSF: the schema version (the mapping differs where the versions do), the
/// field map, and whether the raw Graph document travels along.
///
/// Alerts and incidents are Detection Findings (class 2004). A provider warning is an
/// Application Error (class 6008) from OCSF 1.4.0, which added that class, and a Base Event
/// (class 0) before; health events are Base Events.
public struct OCSFFormat: Sendable, Hashable {
    public enum Version: String, Sendable, Hashable, CaseIterable {
        case v1Dot1 = "1.1.0"
        case v1Dot2 = "1.2.0"
        case v1Dot3 = "1.3.0"
        case v1Dot4 = "1.4.0"
        case v1Dot5 = "1.5.0"

        /// `evidences` with `user`, `device` and `url` (1.3.0 on); before, they go in `data`.
        var hasEntityEvidence: Bool { self >= .v1Dot3 }
        /// The Application Error class (1.4.0 on).
        var hasApplicationError: Bool { self >= .v1Dot4 }

        static func >= (lhs: Version, rhs: Version) -> Bool {
            allCases.firstIndex(of: lhs)! >= allCases.firstIndex(of: rhs)!
        }
    }

    public var version: Version
    /// Built-in attributes renamed or left out, attributes added from the raw Graph document.
    public var fields: JSONFieldMap
    /// Put the alert's Graph document in `raw_data` (as a string).
    public var includeRaw: Bool

    public init(version: Version = .v1Dot3, fields: JSONFieldMap = JSONFieldMap(), includeRaw: Bool = false) {
        self.version = version
        self.fields = fields
        self.includeRaw = includeRaw
    }

    /// OCSF severity_id and its caption for a Graph severity.
    static func severity(_ severity: Severity) -> (Int, String) {
        switch severity.rawValue.lowercased() {
        case "informational": return (1, "Informational")
        case "low": return (2, "Low")
        case "medium": return (3, "Medium")
        case "high": return (4, "High")
        default: return (0, "Unknown")
        }
    }

    /// OCSF status_id and its caption for a Graph status (alerts v1 and v2, incidents).
    static func status(_ status: String) -> (Int, String) {
        switch status.lowercased() {
        case "new", "newalert", "active": return (1, "New")
        case "inprogress": return (2, "In Progress")
        case "dismissed", "redirected": return (3, "Suppressed")
        case "resolved": return (4, "Resolved")
        case "", "unknown", "unknownfuturevalue": return (0, "Unknown")
        default: return (99, status)
        }
    }
}
