public import CollectorCore

/// The Graph Security API resources the collector reads.
public enum GraphEndpoint: String, Sendable, Hashable, CaseIterable, Codable {
    /// Legacy federated `/security/alerts` (v1). Answers 206 with `Warning` items when a
    /// provider fails. Being retired by Microsoft.
    case alerts
    /// `/security/alerts_v2`.
    case alertsV2 = "alerts_v2"
    /// `/security/incidents`.
    case incidents

    /// The property that orders and windows collection.
    public var lastUpdatedProperty: String {
        self == .alerts ? "lastModifiedDateTime" : "lastUpdateDateTime"
    }

    /// The largest `$top` the endpoint accepts.
    public var maximumPageSize: Int {
        switch self {
        case .alerts, .alertsV2: return 1000
        case .incidents: return 50
        }
    }

    /// The application permission the endpoint needs.
    public var requiredPermission: String {
        switch self {
        case .alerts: return "SecurityEvents.Read.All"
        case .alertsV2: return "SecurityAlert.Read.All"
        case .incidents: return "SecurityIncident.Read.All"
        }
    }

    public var alertKind: SecurityAlertKind {
        switch self {
        case .alerts: return .alertV1
        case .alertsV2: return .alertV2
        case .incidents: return .incident
        }
    }
}

public typealias SecurityAlertKind = SecurityAlert.Kind
