/// The JSON form of events: one flat object per event with `event_type` first and snake_case
/// keys; absent values are left out. This is what the JSON-file sink writes, one per line, and
/// what ``Event/init(json:)`` reads back. The schema is documented in README.md ("Event schema").
extension Event {
    /// Schema version written as `schema_version`; bumped on incompatible change.
    public static let schemaVersion = 1

    public var jsonValue: JSONValue { jsonValue(includingRaw: true) }

    /// The JSON form, with or without an alert's `raw` (left out, it is not parsed at all).
    public func jsonValue(includingRaw: Bool) -> JSONValue {
        var o = membersBeforeRaw
        if includingRaw, case .alert(let a) = self { o["raw"] = a.raw.value }
        return o.value
    }

    /// Writes the JSON form: what ``jsonValue`` is, without parsing an alert's ``SecurityAlert/raw``
    /// into a tree to write it again.
    public func writeJSON(into writer: inout JSONWriter) {
        let o = membersBeforeRaw
        if case .alert(let a) = self {
            writer.writeObject(o.members, last: ("raw", a.raw))
        } else {
            writer.write(o.value)
        }
    }

    /// Every member of the JSON form but an alert's `raw`, which comes last.
    private var membersBeforeRaw: ObjectBuilder {
        var o = ObjectBuilder()
        o["event_type"] = .string(eventType)
        o["schema_version"] = .number(String(Event.schemaVersion))
        switch self {
        case .alert(let a):
            o["kind"] = .string(a.kind.rawValue)
            o["id"] = .string(a.id)
            o["provider_alert_id"] = a.providerAlertId.map(JSONValue.string)
            o["incident_id"] = a.incidentId.map(JSONValue.string)
            o["title"] = .string(a.title)
            o["description"] = a.description.map(JSONValue.string)
            o["severity"] = .string(a.severity.rawValue)
            o["status"] = .string(a.status)
            o["classification"] = a.classification.map(JSONValue.string)
            o["determination"] = a.determination.map(JSONValue.string)
            o["category"] = a.category.map(JSONValue.string)
            o["vendor"] = a.vendor.map(JSONValue.string)
            o["provider"] = a.provider.map(JSONValue.string)
            o["detection_source"] = a.detectionSource.map(JSONValue.string)
            o["service_source"] = a.serviceSource.map(JSONValue.string)
            o["created_at"] = a.createdAt.map { .string($0.iso8601()) }
            o["first_activity_at"] = a.firstActivityAt.map { .string($0.iso8601()) }
            o["last_activity_at"] = a.lastActivityAt.map { .string($0.iso8601()) }
            o["last_updated_at"] = a.lastUpdatedAt.map { .string($0.iso8601()) }
            o["resolved_at"] = a.resolvedAt.map { .string($0.iso8601()) }
            o["assigned_to"] = a.assignedTo.map(JSONValue.string)
            o["tenant_id"] = a.tenantId.map(JSONValue.string)
            o["web_url"] = a.webURL.map(JSONValue.string)
            if !a.mitreTechniques.isEmpty { o["mitre_techniques"] = .array(a.mitreTechniques.map(JSONValue.string)) }
            if !a.evidence.isEmpty { o["evidence"] = a.evidence.jsonValue }
        case .providerWarning(let w):
            o["vendor"] = .string(w.vendor)
            o["provider"] = .string(w.provider)
            o["http_status"] = .number(String(w.httpStatus))
            o["latency_ms"] = w.latencyMilliseconds.map { .number(String($0)) }
            o["query"] = .string(w.query)
            o["endpoint"] = w.endpoint.map(JSONValue.string)
            o["tenant_id"] = w.tenantId.map(JSONValue.string)
            o["observed_at"] = .string(w.observedAt.iso8601())
            o["diagnosis"] = .string(w.diagnosis)
            o["persistent"] = .bool(w.isPersistent)
            o["raw_item"] = .string(w.rawItem)
        case .health(let h):
            o["component"] = .string(h.component)
            o["level"] = .string(h.level.rawValue)
            o["code"] = .string(h.code)
            o["message"] = .string(h.message)
            if !h.details.isEmpty {
                o["details"] = .object(h.details.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
            }
            o["observed_at"] = .string(h.observedAt.iso8601())
        }
        return o
    }

    /// One line of NDJSON (the JSON form and a trailing `\n`), as UTF-8 bytes.
    public func ndjsonLine(into writer: inout JSONWriter) {
        writeJSON(into: &writer)
        writer.bytes.append(0x0A)
    }

    /// Reads the JSON form back. Throws ``EventDecodingError`` naming the missing or wrong field.
    public init(json: JSONValue) throws(EventDecodingError) {
        let r = FieldReader(json)
        switch try r.string("event_type") {
        case "alert":
            guard let kind = SecurityAlert.Kind(rawValue: try r.string("kind")) else {
                throw EventDecodingError(field: "kind", problem: "unknown alert kind")
            }
            self = .alert(
                SecurityAlert(
                    kind: kind, id: try r.string("id"), providerAlertId: r.optionalString("provider_alert_id"),
                    incidentId: r.optionalString("incident_id"), title: try r.string("title"),
                    description: r.optionalString("description"),
                    severity: Severity(rawValue: try r.string("severity")), status: try r.string("status"),
                    classification: r.optionalString("classification"),
                    determination: r.optionalString("determination"), category: r.optionalString("category"),
                    vendor: r.optionalString("vendor"), provider: r.optionalString("provider"),
                    detectionSource: r.optionalString("detection_source"),
                    serviceSource: r.optionalString("service_source"), createdAt: try r.time("created_at"),
                    firstActivityAt: try r.time("first_activity_at"), lastActivityAt: try r.time("last_activity_at"),
                    lastUpdatedAt: try r.time("last_updated_at"), resolvedAt: try r.time("resolved_at"),
                    assignedTo: r.optionalString("assigned_to"), tenantId: r.optionalString("tenant_id"),
                    webURL: r.optionalString("web_url"),
                    mitreTechniques: (json["mitre_techniques"]?.arrayValue ?? []).compactMap(\.stringValue),
                    evidence: json["evidence"].map(Evidence.init(json:)) ?? Evidence(),
                    raw: json["raw"].map(RawJSON.init) ?? .null))
        case "provider_warning":
            guard let status = json["http_status"]?.intValue else {
                throw EventDecodingError(field: "http_status", problem: "missing or not an integer")
            }
            guard let observed = try r.time("observed_at") else {
                throw EventDecodingError(field: "observed_at", problem: "missing")
            }
            self = .providerWarning(
                ProviderWarning(
                    vendor: try r.string("vendor"), provider: try r.string("provider"), httpStatus: status,
                    latencyMilliseconds: json["latency_ms"]?.intValue, query: try r.string("query"),
                    endpoint: r.optionalString("endpoint"), tenantId: r.optionalString("tenant_id"),
                    observedAt: observed, diagnosis: try r.string("diagnosis"),
                    isPersistent: json["persistent"] == .bool(true), rawItem: r.optionalString("raw_item") ?? ""))
        case "collector_health":
            guard let level = CollectorHealth.Level(rawValue: try r.string("level")) else {
                throw EventDecodingError(field: "level", problem: "unknown level")
            }
            var details: [String: String] = [:]
            for (k, v) in json["details"]?.objectMembers ?? [] { details[k] = v.scalarText ?? "" }
            self = .health(
                CollectorHealth(
                    component: try r.string("component"), level: level, code: try r.string("code"),
                    message: try r.string("message"), details: details,
                    observedAt: try r.time("observed_at") ?? Timestamp(nanosecondsSinceEpoch: 0)))
        case let other:
            throw EventDecodingError(field: "event_type", problem: "unknown event type '\(other)'")
        }
    }
}

extension Evidence {
    var jsonValue: JSONValue {
        var o = ObjectBuilder()
        if !hosts.isEmpty {
            o["hosts"] = .array(
                hosts.map { h in
                    var b = ObjectBuilder()
                    b["name"] = h.name.map(JSONValue.string)
                    b["fqdn"] = h.fqdn.map(JSONValue.string)
                    b["device_id"] = h.deviceId.map(JSONValue.string)
                    b["os"] = h.os.map(JSONValue.string)
                    if !h.ipAddresses.isEmpty { b["ip_addresses"] = .array(h.ipAddresses.map(JSONValue.string)) }
                    return b.value
                })
        }
        if !users.isEmpty {
            o["users"] = .array(
                users.map { u in
                    var b = ObjectBuilder()
                    b["account_name"] = u.accountName.map(JSONValue.string)
                    b["domain"] = u.domain.map(JSONValue.string)
                    b["user_principal_name"] = u.userPrincipalName.map(JSONValue.string)
                    b["sid"] = u.sid.map(JSONValue.string)
                    b["display_name"] = u.displayName.map(JSONValue.string)
                    return b.value
                })
        }
        if !ipAddresses.isEmpty { o["ip_addresses"] = .array(ipAddresses.map(JSONValue.string)) }
        if !urls.isEmpty { o["urls"] = .array(urls.map(JSONValue.string)) }
        if !files.isEmpty {
            o["files"] = .array(
                files.map { f in
                    var b = ObjectBuilder()
                    b["name"] = f.name.map(JSONValue.string)
                    b["path"] = f.path.map(JSONValue.string)
                    b["sha1"] = f.sha1.map(JSONValue.string)
                    b["sha256"] = f.sha256.map(JSONValue.string)
                    b["size"] = f.size.map { .number(String($0)) }
                    return b.value
                })
        }
        if !processes.isEmpty {
            o["processes"] = .array(
                processes.map { p in
                    var b = ObjectBuilder()
                    b["process_id"] = p.processId.map { .number(String($0)) }
                    b["parent_process_id"] = p.parentProcessId.map { .number(String($0)) }
                    b["command_line"] = p.commandLine.map(JSONValue.string)
                    b["image_name"] = p.imageName.map(JSONValue.string)
                    b["image_path"] = p.imagePath.map(JSONValue.string)
                    b["sha256"] = p.sha256.map(JSONValue.string)
                    b["account_name"] = p.accountName.map(JSONValue.string)
                    return b.value
                })
        }
        return o.value
    }

    init(json: JSONValue) {
        func strings(_ v: JSONValue?) -> [String] { (v?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(
            hosts: (json["hosts"]?.arrayValue ?? []).map {
                Host(
                    name: $0["name"]?.stringValue, fqdn: $0["fqdn"]?.stringValue,
                    deviceId: $0["device_id"]?.stringValue,
                    os: $0["os"]?.stringValue, ipAddresses: strings($0["ip_addresses"]))
            },
            users: (json["users"]?.arrayValue ?? []).map {
                User(
                    accountName: $0["account_name"]?.stringValue, domain: $0["domain"]?.stringValue,
                    userPrincipalName: $0["user_principal_name"]?.stringValue, sid: $0["sid"]?.stringValue,
                    displayName: $0["display_name"]?.stringValue)
            },
            ipAddresses: strings(json["ip_addresses"]), urls: strings(json["urls"]),
            files: (json["files"]?.arrayValue ?? []).map {
                File(
                    name: $0["name"]?.stringValue, path: $0["path"]?.stringValue, sha1: $0["sha1"]?.stringValue,
                    sha256: $0["sha256"]?.stringValue, size: $0["size"]?.intValue)
            },
            processes: (json["processes"]?.arrayValue ?? []).map {
                Process(
                    processId: $0["process_id"]?.intValue, parentProcessId: $0["parent_process_id"]?.intValue,
                    commandLine: $0["command_line"]?.stringValue, imageName: $0["image_name"]?.stringValue,
                    imagePath: $0["image_path"]?.stringValue, sha256: $0["sha256"]?.stringValue,
                    accountName: $0["account_name"]?.stringValue)
            })
    }
}

/// A field of an event's JSON form was missing or of the wrong type.
public struct EventDecodingError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var problem: String
    public var description: String { "event field '\(field)': \(problem)" }
}

extension Event: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

/// Builds a JSON object in insertion order; assigning nil leaves the key out.
/// A JSON object in the order its members are set; setting nil leaves the key out.
package struct ObjectBuilder {
    package var members: [(String, JSONValue)] = []

    package init() {}

    package subscript(key: String) -> JSONValue? {
        get { members.first { $0.0 == key }?.1 }
        set { if let newValue { members.append((key, newValue)) } }
    }

    package var isEmpty: Bool { members.isEmpty }
    package var value: JSONValue { .object(members) }
}

struct FieldReader {
    let json: JSONValue
    init(_ json: JSONValue) { self.json = json }

    func string(_ key: String) throws(EventDecodingError) -> String {
        guard let s = json[key]?.stringValue else {
            throw EventDecodingError(field: key, problem: "missing or not a string")
        }
        return s
    }

    func optionalString(_ key: String) -> String? { json[key]?.stringValue }

    func time(_ key: String) throws(EventDecodingError) -> Timestamp? {
        guard let s = json[key]?.stringValue else { return nil }
        guard let t = Timestamp(iso8601: s) else {
            throw EventDecodingError(field: key, problem: "'\(s)' is not an RFC 3339 time")
        }
        return t
    }
}
