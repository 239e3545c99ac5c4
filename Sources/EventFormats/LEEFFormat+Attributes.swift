public import CollectorCore

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

/// An attribute's value as the alert holds it. The encoder writes it straight into its output
/// (no String per attribute); ``LEEFFormat/attributes(of:)`` turns it into text.
enum LEEFValue {
    case text(String)
    case integer(Int64)
    /// RFC 3339 with milliseconds.
    case time(Timestamp)
    /// Comma-separated.
    case list([String])
    /// Each host's FQDN, or else its name, comma-separated.
    case hostNames([Evidence.Host])
    /// Each user's UPN, or else its account name, comma-separated.
    case userNames([Evidence.User])

    /// Whether its text is empty (such attributes are left out).
    var isEmpty: Bool {
        switch self {
        case .text(let text): return text.isEmpty
        case .integer, .time: return false
        case .list(let items): return Self.isEmptyList(items)
        case .hostNames(let hosts): return Self.isEmptyList(hosts.lazy.compactMap(\.displayName))
        case .userNames(let users): return Self.isEmptyList(users.lazy.compactMap(\.listedName))
        }
    }

    /// The value as text.
    var text: String {
        switch self {
        case .text(let text): return text
        case .integer(let n): return String(n)
        case .time(let t): return t.iso8601(fractionDigits: 3)
        case .list(let items): return items.joined(separator: ",")
        case .hostNames(let hosts): return hosts.compactMap(\.displayName).joined(separator: ",")
        case .userNames(let users): return users.compactMap(\.listedName).joined(separator: ",")
        }
    }

    /// A joined list is empty when it has no items, or one empty item.
    private static func isEmptyList(_ items: some Sequence<String>) -> Bool {
        var iterator = items.makeIterator()
        guard let first = iterator.next() else { return true }
        return first.isEmpty && iterator.next() == nil
    }
}

/// Receives an alert's attributes in output order.
protocol LEEFAttributeVisitor {
    mutating func visit(_ key: String, _ value: LEEFValue, importance: Int)
    /// A text value, never empty.
    mutating func visitText(_ key: String, _ value: String, importance: Int)
}

extension LEEFAttributeVisitor {
    mutating func visitText(_ key: String, _ value: String, importance: Int) {
        visit(key, .text(value), importance: importance)
    }
}

extension LEEFFormat {
    /// The attributes of an event, in output order, before escaping.
    public func attributes(of event: Event) -> [LEEFAttribute] {
        switch event {
        case .alert(let alert):
            var collector = AttributeCollector()
            visitAttributes(of: alert, keys: resolvedKeys, &collector)
            return collector.attributes
        case .providerWarning(let warning): return attributes(of: warning)
        case .health(let health): return attributes(of: health)
        }
    }

    /// The key of every built-in field, in `LEEFField.allCases` order; nil where it is left out.
    var resolvedKeys: [String?] { LEEFField.allCases.map { key(for: $0) } }

    func devTime(_ time: Timestamp) -> String {
        if let devTimeFormat { return devTimeFormat.format(time) }
        return String(time.millisecondsSinceEpoch)
    }

    /// Hands `visitor` each attribute of an alert that has a value, then the `raw_fields`.
    func visitAttributes<Visitor: LEEFAttributeVisitor>(
        of alert: SecurityAlert, keys: [String?], _ visitor: inout Visitor
    ) {
        for (index, field) in LEEFField.allCases.enumerated() {
            guard let key = keys[index] else { continue }
            visit(field, of: alert, key: key, &visitor)
        }
        for (key, pointer) in rawFields {
            guard let found = pointer.resolve(in: alert.raw) else { continue }
            let text: String?
            switch found {
            case .null: text = nil
            case .array, .object: text = JSONWriter.string(found)
            default: text = found.scalarText
            }
            if let text, !text.isEmpty { visitor.visit(key, .text(text), importance: 3) }
        }
    }

    /// Hands `visitor` an alert's value of one built-in field, when it has a value. Text is
    /// passed as the alert holds it, without wrapping it (which would retain it).
    func visit<Visitor: LEEFAttributeVisitor>(
        _ field: LEEFField, of alert: SecurityAlert, key: String, _ visitor: inout Visitor
    ) {
        let importance = field.importance
        func text(_ value: String?) {
            if let value, !value.isEmpty { visitor.visitText(key, value, importance: importance) }
        }
        func other(_ value: LEEFValue) {
            if !value.isEmpty { visitor.visit(key, value, importance: importance) }
        }
        func time(_ value: Timestamp?) { if let value { other(.time(value)) } }
        switch field {
        case .devTime:
            let time = alert.lastUpdatedAt ?? alert.createdAt ?? Timestamp(nanosecondsSinceEpoch: 0)
            guard let devTimeFormat else { return other(.integer(time.millisecondsSinceEpoch)) }
            // The pattern follows the time it describes, and only when there is one.
            let formatted = devTimeFormat.format(time)
            guard !formatted.isEmpty else { return }
            text(formatted)
            visitor.visitText("devTimeFormat", devTimeFormat.pattern, importance: 0)
        case .sev: other(.integer(Int64(severityMap[alert.severity.rawValue.lowercased()] ?? defaultSeverity)))
        case .cat: text(alert.category?.isEmpty == false ? alert.category! : "unknown")
        case .alertId: text(alert.id)
        case .status: text(alert.status)
        case .provider: text(alert.provider)
        case .tenantId: text(alert.tenantId)
        case .src:
            text(alert.evidence.firstIPAddress { _ in true })
        case .usrName:
            text(
                alert.evidence.users.first.flatMap { u in
                    u.userPrincipalName ?? u.accountName.map { name in u.domain.map { "\($0)\\\(name)" } ?? name }
                })
        case .identHostName: if !alert.evidence.hosts.isEmpty { text(alert.evidence.hosts[0].displayName) }
        case .title: text(alert.title)
        case .severity: text(alert.severity.rawValue)
        case .kind: text(alert.kind.rawValue)
        case .vendor: text(alert.vendor)
        case .url: text(alert.evidence.urls.first)
        case .policy: text(alert.raw.member("detectorId")?.scalarText)
        case .resource: if !alert.evidence.files.isEmpty { text(Self.resource(alert.evidence.files[0])) }
        case .incidentId: text(alert.incidentId)
        case .providerAlertId: text(alert.providerAlertId)
        case .classification: text(alert.classification)
        case .determination: text(alert.determination)
        case .detectionSource: text(alert.detectionSource)
        case .serviceSource: text(alert.serviceSource)
        case .mitreTechniques: other(.list(alert.mitreTechniques))
        case .fileName: if !alert.evidence.files.isEmpty { text(alert.evidence.files[0].name) }
        case .fileSha256:
            text(alert.evidence.files.firstValue(\.sha256) ?? alert.evidence.processes.firstValue(\.sha256))
        case .fileSha1: text(alert.evidence.files.firstValue(\.sha1))
        case .assignedTo: text(alert.assignedTo)
        case .createdTime: time(alert.createdAt)
        case .firstActivityTime: time(alert.firstActivityAt)
        case .lastActivityTime: time(alert.lastActivityAt)
        case .resolvedTime: time(alert.resolvedAt)
        case .ipAddresses: other(.list(alert.evidence.ipAddresses))
        case .hostNames: other(.hostNames(alert.evidence.hosts))
        case .userNames: other(.userNames(alert.evidence.users))
        case .alertWebUrl: text(alert.webURL)
        case .processCommandLine: text(alert.evidence.processes.firstValue(\.commandLine))
        case .description: text(alert.description)
        }
    }

    /// A file's path joined with its name (a path that ends in a separator takes the name
    /// directly), or whichever of the two it has.
    static func resource(_ file: Evidence.File) -> String? {
        switch (file.path, file.name) {
        case (let path?, let name?):
            if path.hasSuffix("\\") || path.hasSuffix("/") { return path + name }
            return path + (path.utf8.contains(0x5C) ? "\\" : "/") + name
        case (let path?, nil): return path
        case (nil, let name): return name
        }
    }

    func attributes(of w: ProviderWarning) -> [LEEFAttribute] {
        var out = [
            LEEFAttribute("devTime", devTime(w.observedAt), importance: 0),
            LEEFAttribute("sev", String(w.isPersistent ? 7 : 5), importance: 0),
            LEEFAttribute("cat", "ProviderWarning", importance: 0),
            LEEFAttribute("provider", w.provider, importance: 0),
            LEEFAttribute("providerVendor", w.vendor, importance: 1),
            LEEFAttribute("providerStatus", String(w.httpStatus), importance: 0),
        ]
        if let devTimeFormat {
            out.insert(LEEFAttribute("devTimeFormat", devTimeFormat.pattern, importance: 0), at: 1)
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
    }

    func attributes(of h: CollectorHealth) -> [LEEFAttribute] {
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
        if let devTimeFormat {
            out.insert(LEEFAttribute("devTimeFormat", devTimeFormat.pattern, importance: 0), at: 1)
        }
        for (key, value) in h.details.sorted(by: { $0.key < $1.key }) {
            let cleaned = String(key.unicodeScalars.map { LEEFFormat.isValidKey(String($0)) ? Character($0) : "_" })
            out.append(LEEFAttribute("detail." + cleaned, value, importance: 3))
        }
        return out
    }
}

/// Collects an alert's attributes as text.
private struct AttributeCollector: LEEFAttributeVisitor {
    var attributes: [LEEFAttribute] = []

    mutating func visit(_ key: String, _ value: LEEFValue, importance: Int) {
        attributes.append(LEEFAttribute(key, value.text, importance: importance))
    }
}
