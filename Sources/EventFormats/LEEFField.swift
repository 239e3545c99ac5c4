public import CollectorCore

/// The attributes the LEEF encoder writes for an alert, in output order, with IBM's predefined
/// keys where one fits and the importance that decides what goes first when an event is too long.
///
/// Rename or omit any of them with the sink's `leef.fields` setting (`usr_name: userName`,
/// `description: null`).
public enum LEEFField: String, Sendable, Hashable, CaseIterable {
    case devTime = "dev_time"
    case sev
    case cat
    case alertId = "alert_id"
    case status
    case provider
    case tenantId = "tenant_id"
    case src
    case usrName = "usr_name"
    case identHostName = "ident_host_name"
    case title
    case severity
    case kind
    case vendor
    case url
    case policy
    case resource
    case incidentId = "incident_id"
    case providerAlertId = "provider_alert_id"
    case classification
    case determination
    case detectionSource = "detection_source"
    case serviceSource = "service_source"
    case mitreTechniques = "mitre_techniques"
    case fileName = "file_name"
    case fileSha256 = "file_sha256"
    case fileSha1 = "file_sha1"
    case assignedTo = "assigned_to"
    case createdTime = "created_time"
    case firstActivityTime = "first_activity_time"
    case lastActivityTime = "last_activity_time"
    case resolvedTime = "resolved_time"
    case ipAddresses = "ip_addresses"
    case hostNames = "host_names"
    case userNames = "user_names"
    case alertWebUrl = "alert_web_url"
    case processCommandLine = "process_command_line"
    case description

    /// The key written by default.
    public var defaultKey: String {
        switch self {
        case .devTime: return "devTime"
        case .sev: return "sev"
        case .cat: return "cat"
        case .alertId: return "alertId"
        case .status: return "status"
        case .provider: return "provider"
        case .tenantId: return "tenantId"
        case .src: return "src"
        case .usrName: return "usrName"
        case .identHostName: return "identHostName"
        case .title: return "title"
        case .severity: return "graphSeverity"
        case .kind: return "alertKind"
        case .vendor: return "alertVendor"
        case .url: return "url"
        case .policy: return "policy"
        case .resource: return "resource"
        case .incidentId: return "incidentId"
        case .providerAlertId: return "providerAlertId"
        case .classification: return "classification"
        case .determination: return "determination"
        case .detectionSource: return "detectionSource"
        case .serviceSource: return "serviceSource"
        case .mitreTechniques: return "mitreTechniques"
        case .fileName: return "fileName"
        case .fileSha256: return "fileSha256"
        case .fileSha1: return "fileSha1"
        case .assignedTo: return "assignedTo"
        case .createdTime: return "createdTime"
        case .firstActivityTime: return "firstActivityTime"
        case .lastActivityTime: return "lastActivityTime"
        case .resolvedTime: return "resolvedTime"
        case .ipAddresses: return "ipAddresses"
        case .hostNames: return "hostNames"
        case .userNames: return "userNames"
        case .alertWebUrl: return "alertWebUrl"
        case .processCommandLine: return "processCommandLine"
        case .description: return "description"
        }
    }

    /// 0 is never dropped; higher numbers are dropped first when an event is too long.
    public var importance: Int {
        switch self {
        case .devTime, .sev, .cat, .alertId: return 0
        case .status, .provider, .tenantId, .src, .usrName, .identHostName, .title: return 1
        case .severity, .kind, .vendor, .url, .policy, .resource, .incidentId: return 2
        case .providerAlertId, .classification, .determination, .detectionSource, .serviceSource,
            .mitreTechniques, .fileName, .fileSha256, .fileSha1:
            return 3
        case .assignedTo, .createdTime, .firstActivityTime, .lastActivityTime, .resolvedTime,
            .ipAddresses, .hostNames, .userNames, .alertWebUrl:
            return 4
        case .processCommandLine: return 5
        case .description: return 6
        }
    }

    /// What the field holds, for documentation.
    public var summary: String {
        switch self {
        case .devTime: return "the alert's last update time (epoch ms, or dev_time_format)"
        case .sev: return "severity on QRadar's 1–10 scale (severity_map)"
        case .cat: return "the alert's category"
        case .alertId: return "the Graph alert or incident id"
        case .status: return "status as Graph writes it"
        case .provider: return "the product that raised the alert"
        case .tenantId: return "the Entra tenant id"
        case .src: return "the first IP address in the evidence"
        case .usrName: return "the first user in the evidence (UPN, else DOMAIN\\account)"
        case .identHostName: return "the first device in the evidence (FQDN, else name)"
        case .title: return "the alert's title"
        case .severity: return "Graph's severity word (high, medium, …)"
        case .kind: return "alert_v1, alert_v2 or incident"
        case .vendor: return "the vendor"
        case .url: return "the first URL in the evidence"
        case .policy: return "the detector id (v2 detectorId)"
        case .resource: return "the first file in the evidence (path and name)"
        case .incidentId: return "the incident the alert belongs to"
        case .providerAlertId: return "the provider's own alert id"
        case .classification: return "classification (truePositive, …)"
        case .determination: return "determination (malware, …)"
        case .detectionSource: return "v2 detectionSource"
        case .serviceSource: return "v2 serviceSource"
        case .mitreTechniques: return "MITRE ATT&CK technique ids, comma-separated"
        case .fileName: return "the first file's name"
        case .fileSha256: return "the first file's SHA-256"
        case .fileSha1: return "the first file's SHA-1"
        case .assignedTo: return "who the alert is assigned to"
        case .createdTime, .firstActivityTime, .lastActivityTime, .resolvedTime: return "RFC 3339 time"
        case .ipAddresses: return "every IP address in the evidence, comma-separated"
        case .hostNames: return "every device in the evidence, comma-separated"
        case .userNames: return "every user in the evidence, comma-separated"
        case .alertWebUrl: return "link to the alert in the vendor's portal"
        case .processCommandLine: return "the first process's command line"
        case .description: return "the alert's description"
        }
    }
}
