/// An alert's severity as Graph names it (`informational`, `low`, `medium`, `high`, `unknown`).
/// Values Graph adds later are kept as they come rather than rejected.
public struct Severity: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let unknown = Severity(rawValue: "unknown")
    public static let informational = Severity(rawValue: "informational")
    public static let low = Severity(rawValue: "low")
    public static let medium = Severity(rawValue: "medium")
    public static let high = Severity(rawValue: "high")

    /// 0 (unknown) to 4 (high), for ordering and threshold filters.
    public var rank: Int {
        switch rawValue.lowercased() {
        case "informational": return 1
        case "low": return 2
        case "medium": return 3
        case "high": return 4
        default: return 0
        }
    }

    public var description: String { rawValue }
}
