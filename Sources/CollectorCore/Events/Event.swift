/// What flows from sources to sinks.
///
/// Sinks should switch over it and handle every case; a sink that only cares about alerts can
/// still pass the others on in a generic form (``Event/jsonValue``).
public enum Event: Sendable, Hashable {
    case alert(SecurityAlert)
    case providerWarning(ProviderWarning)
    case health(CollectorHealth)

    /// `alert`, `provider_warning` or `collector_health`: the `event_type` of the JSON form.
    public var eventType: String {
        switch self {
        case .alert: return "alert"
        case .providerWarning: return "provider_warning"
        case .health: return "collector_health"
        }
    }

    /// The time the event is about: an alert's last update (else creation), a warning's or
    /// health report's observation time.
    public var time: Timestamp? {
        switch self {
        case .alert(let a): return a.lastUpdatedAt ?? a.createdAt
        case .providerWarning(let w): return w.observedAt
        case .health(let h): return h.observedAt
        }
    }

    /// A rough size of the event's JSON form, used to batch by bytes without encoding first.
    public var approximateByteCount: Int {
        switch self {
        case .alert(let a): return Self.approximateByteCount(ofAlertWithRaw: a.raw.byteCount)
        case .providerWarning(let w): return 300 + w.diagnosis.utf8.count + w.query.utf8.count
        case .health(let h): return 200 + h.message.utf8.count
        }
    }

    /// ``approximateByteCount`` of an alert whose Graph document is `rawBytes` long.
    public static func approximateByteCount(ofAlertWithRaw rawBytes: Int) -> Int { 600 + rawBytes }

    public var alert: SecurityAlert? {
        if case .alert(let a) = self { return a }
        return nil
    }

    public var providerWarning: ProviderWarning? {
        if case .providerWarning(let w) = self { return w }
        return nil
    }

    public var health: CollectorHealth? {
        if case .health(let h) = self { return h }
        return nil
    }
}
