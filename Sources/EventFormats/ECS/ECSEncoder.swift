public import CollectorCore

/// Events as ECS documents (``ECSFormat``): nested objects with `@timestamp`, `event.*`,
/// `rule.*`, `threat.*`, the first host, user, file, process and URL of the evidence in their
/// ECS field sets, every address, user, host and hash in `related.*`, and our own fields under
/// the namespace. Values an ECS `ip` field cannot hold are left out (Elasticsearch would refuse
/// the whole document).
public struct ECSEncoder: JSONDocumentEncoding {
    public let format: ECSFormat

    public init(format: ECSFormat = ECSFormat()) {
        self.format = format
    }

    public func document(for event: Event) -> JSONValue {
        var d = ObjectBuilder()
        d["@timestamp"] = .string((event.time ?? Timestamp.now()).iso8601())
        d["ecs"] = .object([("version", .string(format.version))])
        switch event {
        case .alert(let a): alert(a, into: &d)
        case .providerWarning(let w): providerWarning(w, into: &d)
        case .health(let h): health(h, into: &d)
        }
        d["agent"] = .object([("type", .string("graph-collector")), ("version", .string(CollectorVersion.current))])
        // Our own JSON form, under the namespace, without the raw document (in event.original).
        let own = event.jsonValue(includingRaw: false)
        var document = d.value
        let path = (format.namespace + "." + event.eventType).split(separator: ".").map(String.init)
        JSONFieldMap.set(own, at: path, in: &document)
        return format.fields.isEmpty ? document : format.fields.apply(to: document, raw: event.alert?.raw)
    }

    static func string(_ s: String?) -> JSONValue? { s.flatMap { $0.isEmpty ? nil : .string($0) } }
    static func time(_ t: Timestamp?) -> JSONValue? { t.map { .string($0.iso8601()) } }
    static func strings(_ values: [String]) -> JSONValue? {
        var seen: Set<String> = []
        let unique = values.filter { !$0.isEmpty && seen.insert($0).inserted }
        return unique.isEmpty ? nil : .array(unique.map(JSONValue.string))
    }

    func providerWarning(_ w: ProviderWarning, into d: inout ObjectBuilder) {
        var e = ObjectBuilder()
        e["kind"] = .string("event")
        e["category"] = .array([.string("api")])
        e["type"] = .array([.string(w.httpStatus == 401 || w.httpStatus == 403 ? "denied" : "info")])
        e["outcome"] = .string("failure")
        e["dataset"] = .string("graph_collector.provider_warning")
        e["module"] = .string("graph_collector")
        e["duration"] = w.latencyMilliseconds.flatMap { ms -> JSONValue? in
            let (nanoseconds, overflow) = Int64(ms).multipliedReportingOverflow(by: 1_000_000)
            return overflow || nanoseconds < 0 ? nil : .number(String(nanoseconds))
        }
        if format.includeOriginal { e["original"] = .string(w.rawItem) }
        d["event"] = e.value
        d["message"] = .string("\(w.provider) failed behind 206 Partial Content: \(w.diagnosis)")
        d["log"] = .object([("level", .string(w.isPersistent ? "error" : "warning"))])
        d["error"] = .object([("code", .string(String(w.httpStatus))), ("message", .string(w.diagnosis))])
        d["http"] = .object([("response", .object([("status_code", .number(String(w.httpStatus)))]))])
        d["observer"] = .object([("vendor", .string(w.vendor)), ("product", .string(w.provider))])
        if let tenant = w.tenantId, !tenant.isEmpty {
            d["cloud"] = .object([("provider", .string("azure")), ("account", .object([("id", .string(tenant))]))])
        }
    }

    func health(_ h: CollectorHealth, into d: inout ObjectBuilder) {
        d["event"] = .object([
            ("kind", .string("event")), ("dataset", .string("graph_collector.collector_health")),
            ("module", .string("graph_collector")), ("code", .string(h.code)),
        ])
        d["message"] = .string(h.message)
        d["log"] = .object([("level", .string(h.level.rawValue)), ("logger", .string(h.component))])
        d["service"] = .object([("name", .string("graph-collector"))])
        if !h.details.isEmpty {
            // Dots in label keys would make Elasticsearch expand them into objects.
            d["labels"] = .object(
                h.details.sorted { $0.key < $1.key }.map {
                    ($0.key.replacingOccurrences(of: ".", with: "_"), .string($0.value))
                })
        }
    }
}
