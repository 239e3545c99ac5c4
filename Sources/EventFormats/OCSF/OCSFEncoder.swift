public import CollectorCore

/// Events as OCSF JSON documents (``OCSFFormat``): one object per event, no null values (the
/// schema refuses them), captions that match their ids, `type_uid` = class × 100 + activity.
public struct OCSFEncoder: JSONDocumentEncoding {
    public let format: OCSFFormat

    public init(format: OCSFFormat = OCSFFormat()) {
        self.format = format
    }

    /// The OCSF document of an event, with the field map applied.
    public func document(for event: Event) -> JSONValue {
        let document: JSONValue
        switch event {
        case .alert(let alert): document = finding(alert)
        case .providerWarning(let warning): document = providerWarning(warning)
        case .health(let health): document = healthEvent(health)
        }
        return format.fields.isEmpty ? document : format.fields.apply(to: document, raw: event.alert?.raw)
    }

    /// The class, activity and type attributes every event starts with.
    func classification(
        into o: inout ObjectBuilder, category: (Int, String), klass: (Int, String), activity: (Int, String)
    ) {
        o["activity_id"] = .number(String(activity.0))
        o["activity_name"] = .string(activity.1)
        o["category_uid"] = .number(String(category.0))
        o["category_name"] = .string(category.1)
        o["class_uid"] = .number(String(klass.0))
        o["class_name"] = .string(klass.1)
        let type = activity.0 == 99 && klass.0 == 0 ? 99 : klass.0 * 100 + activity.0
        o["type_uid"] = .number(String(type))
        o["type_name"] = .string("\(klass.1): \(activity.1)")
    }

    func metadata(product: JSONValue, uid: String?, originalTime: String?, tenant: String?) -> JSONValue {
        var m = ObjectBuilder()
        m["version"] = .string(format.version.rawValue)
        m["product"] = product
        m["uid"] = uid.map(JSONValue.string)
        m["original_time"] = originalTime.map(JSONValue.string)
        m["log_provider"] = .string("graph-collector")
        m["tenant_uid"] = format.version >= .v1Dot3 ? tenant.map(JSONValue.string) : nil
        return m.value
    }

    static let collectorProduct: JSONValue = .object([
        ("name", .string("graph-collector")), ("vendor_name", .string("graph-collector")),
        ("version", .string(CollectorVersion.current)),
    ])

    static func milliseconds(_ t: Timestamp?) -> JSONValue? {
        t.map { .number(String($0.millisecondsSinceEpoch)) }
    }

    static func number(_ n: Int?) -> JSONValue? { n.map { .number(String($0)) } }
    static func string(_ s: String?) -> JSONValue? { s.flatMap { $0.isEmpty ? nil : .string($0) } }

    /// Provider warnings: Application Error (6008) from 1.4.0, a Base Event before.
    func providerWarning(_ w: ProviderWarning) -> JSONValue {
        var o = ObjectBuilder()
        if format.version.hasApplicationError {
            classification(
                into: &o, category: (6, "Application Activity"), klass: (6008, "Application Error"),
                activity: (1, "General Error"))
        } else {
            classification(into: &o, category: (0, "Uncategorized"), klass: (0, "Base Event"), activity: (99, "Other"))
        }
        let severity = w.isPersistent ? (4, "High") : (3, "Medium")
        o["severity_id"] = .number(String(severity.0))
        o["severity"] = .string(severity.1)
        o["time"] = Self.milliseconds(w.observedAt)
        o["message"] = .string("\(w.provider) failed behind 206 Partial Content: \(w.diagnosis)")
        o["status_id"] = .number("2")
        o["status"] = .string("Failure")
        o["status_code"] = .string(String(w.httpStatus))
        o["status_detail"] = .string(w.diagnosis)
        o["metadata"] = metadata(
            product: Self.collectorProduct, uid: nil, originalTime: nil, tenant: w.tenantId)
        var u = ObjectBuilder()
        u["event_type"] = .string("provider_warning")
        u["vendor"] = .string(w.vendor)
        u["provider"] = .string(w.provider)
        u["http_status"] = .number(String(w.httpStatus))
        u["latency_ms"] = Self.number(w.latencyMilliseconds)
        u["endpoint"] = Self.string(w.endpoint)
        u["tenant_id"] = Self.string(w.tenantId)
        u["query"] = .string(w.query)
        u["persistent"] = .bool(w.isPersistent)
        u["warning"] = .string(w.rawItem)
        o["unmapped"] = u.value
        return o.value
    }

    /// Health events: Base Events (OCSF has no class for a collector's own state).
    func healthEvent(_ h: CollectorHealth) -> JSONValue {
        var o = ObjectBuilder()
        classification(into: &o, category: (0, "Uncategorized"), klass: (0, "Base Event"), activity: (99, "Other"))
        let severity: (Int, String) =
            switch h.level {
            case .info: (1, "Informational")
            case .warning: (3, "Medium")
            case .error: (4, "High")
            case .critical: (5, "Critical")
            }
        o["severity_id"] = .number(String(severity.0))
        o["severity"] = .string(severity.1)
        o["time"] = Self.milliseconds(h.observedAt)
        o["message"] = .string(h.message)
        o["status_code"] = .string(h.code)
        o["metadata"] = metadata(product: Self.collectorProduct, uid: nil, originalTime: nil, tenant: nil)
        var u = ObjectBuilder()
        u["event_type"] = .string("collector_health")
        u["component"] = .string(h.component)
        u["level"] = .string(h.level.rawValue)
        if !h.details.isEmpty {
            u["details"] = .object(h.details.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        }
        o["unmapped"] = u.value
        return o.value
    }
}
