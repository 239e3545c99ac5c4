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

/// One `key=value` of a LEEF event before escaping.
public struct LEEFAttribute: Sendable, Hashable {
    public var key: String
    public var value: String
    /// 0 is never dropped; higher is dropped first when the event is too long.
    public var importance: Int

    public init(_ key: String, _ value: String, importance: Int = 3) {
        self.key = key
        self.value = value
        self.importance = importance
    }
}

extension LEEFFormat {
    /// The attributes of an event, in output order, before escaping.
    public func attributes(of event: Event) -> [LEEFAttribute] {
        switch event {
        case .alert(let alert): return attributes(of: alert)
        case .providerWarning(let w):
            var out = [
                LEEFAttribute("devTime", devTime(w.observedAt), importance: 0),
                LEEFAttribute("sev", String(w.isPersistent ? 7 : 5), importance: 0),
                LEEFAttribute("cat", "ProviderWarning", importance: 0),
                LEEFAttribute("provider", w.provider, importance: 0),
                LEEFAttribute("providerVendor", w.vendor, importance: 1),
                LEEFAttribute("providerStatus", String(w.httpStatus), importance: 0),
            ]
            if devTimeFormat != nil {
                out.insert(LEEFAttribute("devTimeFormat", devTimeFormat!.pattern, importance: 0), at: 1)
            }
            if let latency = w.latencyMilliseconds {
                out.append(LEEFAttribute("latencyMs", String(latency), importance: 2))
            }
            if let endpoint = w.endpoint { out.append(LEEFAttribute("endpoint", endpoint, importance: 1)) }
            if let tenant = w.tenantId { out.append(LEEFAttribute("tenantId", tenant, importance: 1)) }
            out.append(LEEFAttribute("persistent", w.isPersistent ? "true" : "false", importance: 1))
            out.append(LEEFAttribute("diagnosis", w.diagnosis, importance: 1))
            out.append(LEEFAttribute("warningItem", w.rawItem, importance: 3))
            out.append(LEEFAttribute("query", w.query, importance: 4))
            return out
        case .health(let h):
            let sev: Int
            switch h.level {
            case .info: sev = 1
            case .warning: sev = 5
            case .error: sev = 7
            case .critical: sev = 9
            }
            var out = [
                LEEFAttribute("devTime", devTime(h.observedAt), importance: 0),
                LEEFAttribute("sev", String(sev), importance: 0),
                LEEFAttribute("cat", h.code, importance: 0),
                LEEFAttribute("component", h.component, importance: 0),
                LEEFAttribute("level", h.level.rawValue, importance: 1),
                LEEFAttribute("message", h.message, importance: 1),
            ]
            if devTimeFormat != nil {
                out.insert(LEEFAttribute("devTimeFormat", devTimeFormat!.pattern, importance: 0), at: 1)
            }
            for (key, value) in h.details.sorted(by: { $0.key < $1.key }) {
                let cleaned = String(key.unicodeScalars.map { LEEFFormat.isValidKey(String($0)) ? Character($0) : "_" })
                out.append(LEEFAttribute("detail." + cleaned, value, importance: 3))
            }
            return out
        }
    }

    func devTime(_ time: Timestamp) -> String {
        if let devTimeFormat { return devTimeFormat.format(time) }
        return String(time.millisecondsSinceEpoch)
    }

    func attributes(of alert: SecurityAlert) -> [LEEFAttribute] {
        var out: [LEEFAttribute] = []
        out.reserveCapacity(40)
        let evidence = alert.evidence
        func list(_ items: [String]) -> String? { items.isEmpty ? nil : items.joined(separator: ",") }
        func time(_ t: Timestamp?) -> String? { t.map { $0.iso8601(fractionDigits: 3) } }
        for field in LEEFField.allCases {
            guard let key = key(for: field) else { continue }
            let value: String?
            switch field {
            case .devTime:
                value = devTime(alert.lastUpdatedAt ?? alert.createdAt ?? Timestamp(nanosecondsSinceEpoch: 0))
            case .sev: value = String(severityMap[alert.severity.rawValue.lowercased()] ?? defaultSeverity)
            case .cat: value = alert.category?.isEmpty == false ? alert.category : "unknown"
            case .alertId: value = alert.id
            case .status: value = alert.status
            case .provider: value = alert.provider
            case .tenantId: value = alert.tenantId
            case .src: value = evidence.ipAddresses.first ?? evidence.hosts.lazy.flatMap(\.ipAddresses).first
            case .usrName:
                value = evidence.users.first.flatMap { u in
                    u.userPrincipalName ?? u.accountName.map { name in u.domain.map { "\($0)\\\(name)" } ?? name }
                }
            case .identHostName: value = evidence.hosts.first.flatMap { $0.fqdn ?? $0.name }
            case .title: value = alert.title
            case .severity: value = alert.severity.rawValue
            case .kind: value = alert.kind.rawValue
            case .vendor: value = alert.vendor
            case .url: value = evidence.urls.first
            case .policy: value = alert.raw["detectorId"]?.scalarText
            case .resource:
                value = evidence.files.first.flatMap { f in
                    switch (f.path, f.name) {
                    case (let p?, let n?):
                        return p.hasSuffix("\\") || p.hasSuffix("/") ? p + n : p + (p.contains("\\") ? "\\" : "/") + n
                    case (let p?, nil): return p
                    case (nil, let n): return n
                    }
                }
            case .incidentId: value = alert.incidentId
            case .providerAlertId: value = alert.providerAlertId
            case .classification: value = alert.classification
            case .determination: value = alert.determination
            case .detectionSource: value = alert.detectionSource
            case .serviceSource: value = alert.serviceSource
            case .mitreTechniques: value = list(alert.mitreTechniques)
            case .fileName: value = evidence.files.first?.name
            case .fileSha256:
                value =
                    evidence.files.lazy.compactMap(\.sha256).first ?? evidence.processes.lazy.compactMap(\.sha256).first
            case .fileSha1: value = evidence.files.lazy.compactMap(\.sha1).first
            case .assignedTo: value = alert.assignedTo
            case .createdTime: value = time(alert.createdAt)
            case .firstActivityTime: value = time(alert.firstActivityAt)
            case .lastActivityTime: value = time(alert.lastActivityAt)
            case .resolvedTime: value = time(alert.resolvedAt)
            case .ipAddresses: value = list(evidence.ipAddresses)
            case .hostNames: value = list(evidence.hosts.compactMap { $0.fqdn ?? $0.name })
            case .userNames: value = list(evidence.users.compactMap { $0.userPrincipalName ?? $0.accountName })
            case .alertWebUrl: value = alert.webURL
            case .processCommandLine: value = evidence.processes.lazy.compactMap(\.commandLine).first
            case .description: value = alert.description
            }
            guard let value, !value.isEmpty else { continue }
            out.append(LEEFAttribute(key, value, importance: field.importance))
            if field == .devTime, let devTimeFormat {
                out.append(LEEFAttribute("devTimeFormat", devTimeFormat.pattern, importance: 0))
            }
        }
        out += rawAttributes(of: alert)
        return out
    }

    /// The `raw_fields` attributes: values from the alert's Graph JSON, by pointer.
    func rawAttributes(of alert: SecurityAlert) -> [LEEFAttribute] {
        var out: [LEEFAttribute] = []
        for (key, pointer) in rawFields {
            guard let found = pointer.resolve(in: alert.raw) else { continue }
            let text: String?
            switch found {
            case .null: text = nil
            case .array, .object: text = JSONWriter.string(found)
            default: text = found.scalarText
            }
            if let text, !text.isEmpty { out.append(LEEFAttribute(key, text, importance: 3)) }
        }
        return out
    }
}
