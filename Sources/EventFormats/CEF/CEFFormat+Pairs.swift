public import CollectorCore

extension CEFFormat {
    /// The header's signature, name and severity for an event.
    func header(of event: Event) -> (signature: String, name: String, severity: Int) {
        switch event {
        case .alert(let a):
            let severity = severityMap[a.severity.rawValue.lowercased()] ?? defaultSeverity
            return (alertSignature.render(a), a.title.isEmpty ? "(untitled)" : a.title, severity)
        case .providerWarning(let w):
            return (
                providerWarningSignature, "Graph provider failed behind 206 Partial Content", w.isPersistent ? 7 : 5
            )
        case .health(let h):
            let severity: Int =
                switch h.level {
                case .info: 1
                case .warning: 5
                case .error: 7
                case .critical: 9
                }
            return (healthSignature, h.code, severity)
        }
    }

    func time(_ t: Timestamp) -> String {
        timeFormat.map { $0.format(t) } ?? String(t.millisecondsSinceEpoch)
    }

    /// The dictionary's length limit for a key (custom strings 4000, the rest 1023 unless noted).
    static func limit(of key: String) -> Int {
        switch key {
        case "fileHash": return 255
        case "externalId": return 40
        case "act", "outcome": return 63
        default: return key.hasPrefix("cs") && key.count == 3 ? 4000 : 1023
        }
    }

    /// Custom keys carry a label.
    static func takesLabel(_ key: String) -> Bool {
        guard let first = key.utf8.first, first == UInt8(ascii: "c") || first == UInt8(ascii: "f"),
            key.utf8.last.map({ $0 >= 0x30 && $0 <= 0x39 }) == true
        else { return false }
        return ["cs", "cn", "c6a", "flexString", "cfp", "deviceCustomDate"].contains { key.hasPrefix($0) }
    }

    /// A pair for a value, trimmed and cut to the key's length; nil for an empty value.
    static func pair(_ key: String, _ value: String?, label: String?, importance: Int) -> CEFPair? {
        pair(CEFKey(key, label: label), value, importance: importance)
    }

    /// A pair for a value, trimmed and cut to the key's length; nil for an empty value.
    static func pair(_ key: CEFKey, _ value: String?, importance: Int) -> CEFPair? {
        guard let given = value else { return nil }
        // Control characters become spaces (the guide has no escape for them), then the value
        // loses its leading and trailing spaces. Most values have none: they are taken as they are.
        var value =
            given.utf8.contains { ($0 < 0x20 && $0 != 0x0A && $0 != 0x0D) || $0 == 0x7F }
            ? String(
                String.UnicodeScalarView(
                    given.unicodeScalars.map { c in
                        (c.value < 0x20 && c != "\n" && c != "\r") || c.value == 0x7F ? " " : c
                    }))
            : given
        while value.first == " " { value.removeFirst() }
        while value.last == " " { value.removeLast() }
        guard !value.isEmpty else { return nil }
        return CEFPair(key.key, CEFEncoder.cut(value, toBytes: key.limit), label: key.label, importance: importance)
    }

    /// The extension pairs of an event, in output order, before escaping.
    public func pairs(of event: Event) -> [CEFPair] {
        switch event {
        case .alert(let a): return pairs(of: a)
        case .providerWarning(let w):
            return [
                Self.pair("rt", time(w.observedAt), label: nil, importance: 0),
                Self.pair("cs1", w.tenantId, label: "tenantId", importance: 1),
                Self.pair("cs2", w.provider, label: "provider", importance: 0),
                Self.pair("cs3", w.vendor, label: "providerVendor", importance: 1),
                Self.pair("cn1", String(w.httpStatus), label: "providerStatus", importance: 0),
                Self.pair("cn2", w.latencyMilliseconds.map(String.init), label: "latencyMs", importance: 2),
                Self.pair("outcome", "failure", label: nil, importance: 1),
                Self.pair("reason", w.diagnosis, label: nil, importance: 1),
                Self.pair("cs4", w.endpoint, label: "endpoint", importance: 1),
                Self.pair("cs5", w.isPersistent ? "true" : "false", label: "persistent", importance: 1),
                Self.pair("msg", w.rawItem, label: nil, importance: 3),
                Self.pair("request", w.query, label: nil, importance: 4),
            ].compactMap { $0 }
        case .health(let h):
            let details = h.details.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            return [
                Self.pair("rt", time(h.observedAt), label: nil, importance: 0),
                Self.pair("cs1", h.component, label: "component", importance: 0),
                Self.pair("cs2", h.level.rawValue, label: "level", importance: 1),
                Self.pair("msg", h.message, label: nil, importance: 1),
                Self.pair(
                    "cs3", details.isEmpty ? nil : details.joined(separator: "; "), label: "details", importance: 3),
            ].compactMap { $0 }
        }
    }

    /// The keys of the built-in fields in `CEFField.allCases` order (nil where left out), and of
    /// the raw fields, each with its label and length limit.
    func resolvedKeys() -> (fields: [CEFKey?], raw: [CEFKey]) {
        (
            CEFField.allCases.map { field in key(for: field).map { CEFKey($0, label: field.label) } },
            rawFields.map { CEFKey($0.key, label: $0.key) }
        )
    }

    func pairs(of a: SecurityAlert) -> [CEFPair] {
        var collector = PairCollector()
        visitPairs(of: a, keys: resolvedKeys(), &collector)
        return collector.pairs
    }

    /// Hands `visitor` each pair of an alert, in output order, before trimming and escaping.
    func visitPairs<Visitor: CEFPairVisitor>(
        of a: SecurityAlert, keys: (fields: [CEFKey?], raw: [CEFKey]), _ visitor: inout Visitor
    ) {
        let e = a.evidence
        let file = e.files.first
        func add(_ field: CEFField, _ value: String?, _ importance: Int) {
            guard let key = keys.fields[field.ordinal] else { return }
            visitor.visit(key, value, importance: importance)
        }
        add(.rt, time(a.lastUpdatedAt ?? a.createdAt ?? Timestamp(nanosecondsSinceEpoch: 0)), 0)
        add(.start, a.firstActivityAt.map(time), 2)
        add(.end, a.lastActivityAt.map(time), 2)
        add(.externalId, a.id.utf8.count <= 40 ? a.id : nil, 0)
        if a.id.utf8.count > 40 { visitor.visit(CEFKey.longAlertID, a.id, importance: 0) }
        add(.cat, a.category?.isEmpty == false ? a.category : "unknown", 0)
        add(.tenantId, a.tenantId, 1)
        add(.provider, a.serviceSource ?? a.provider, 1)
        add(.status, a.status, 1)
        add(.src, e.firstIPAddress(where: NetworkNames.isIPv4), 1)
        add(.sourceIPv6, e.firstIPAddress { !NetworkNames.isIPv4($0) && NetworkNames.isIPAddress($0) }, 2)
        add(.shost, e.hosts.isEmpty ? nil : e.hosts[0].displayName, 1)
        add(
            .suser,
            e.users.first.flatMap { u in
                u.userPrincipalName ?? u.accountName.map { name in u.domain.map { "\($0)\\\(name)" } ?? name }
            }, 1)
        add(.fname, file?.name, 2)
        add(.filePath, file.flatMap { NetworkNames.fullPath($0.path, $0.name) }, 2)
        add(.fileHash, file.flatMap { $0.sha256 ?? $0.sha1 }, 2)
        add(.request, e.urls.first, 2)
        add(.mitreTechniques, a.mitreTechniques.isEmpty ? nil : a.mitreTechniques.joined(separator: ","), 2)
        add(.determination, a.determination ?? a.classification, 3)
        add(.incidentId, a.incidentId, 3)
        add(.alertURL, a.webURL, 3)
        add(.msg, a.description, 4)
        for (index, (_, pointer)) in rawFields.enumerated() {
            guard let value = pointer.resolve(in: a.raw) else { continue }
            visitor.visit(keys.raw[index], value.stringValue ?? JSONWriter.string(value), importance: 3)
        }
    }
}

/// A pair's key as the format resolves it: the key, the label it carries (custom keys only) and
/// the dictionary's length limit for its value.
struct CEFKey {
    var key: String
    var label: String?
    var limit: Int

    init(_ key: String, label: String?) {
        self.key = key
        self.label = CEFFormat.takesLabel(key) ? label : nil
        limit = CEFFormat.limit(of: key)
    }

    /// An alert id over `externalId`'s 40 characters goes here.
    static let longAlertID = CEFKey("flexString2", label: "alertId")
}

/// Receives an alert's pairs in output order, before trimming and escaping.
protocol CEFPairVisitor {
    mutating func visit(_ key: CEFKey, _ value: String?, importance: Int)
}

/// Collects an alert's pairs, trimmed and cut.
private struct PairCollector: CEFPairVisitor {
    var pairs: [CEFPair] = []

    mutating func visit(_ key: CEFKey, _ value: String?, importance: Int) {
        if let pair = CEFFormat.pair(key, value, importance: importance) { pairs.append(pair) }
    }
}

extension CEFField {
    /// The position in `allCases`.
    var ordinal: Int { Self.allCases.firstIndex(of: self)! }
}
