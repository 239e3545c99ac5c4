/// One failing provider behind a federated Graph answer: an item of the `Warning` header of an
/// HTTP 206 Partial Content response, `199 - "{Vendor}/{Provider}/{StatusCode}/{LatencyInMs}"`.
///
/// The collector publishes one of these per item, with a ``diagnosis`` a person can act on, so
/// that a failing provider is visible in the SIEM instead of a silent gap.
public struct ProviderWarning: Sendable, Hashable {
    public var vendor: String
    public var provider: String
    /// The HTTP status the provider answered Graph with (403, 504, …).
    public var httpStatus: Int
    /// How long Graph waited for the provider, in milliseconds.
    public var latencyMilliseconds: Int?
    /// The request that got the 206 (path and query, without credentials).
    public var query: String
    /// The Graph endpoint (`alerts`, `alerts_v2`, `incidents`).
    public var endpoint: String?
    public var tenantId: String?
    /// When the collector saw the warning.
    public var observedAt: Timestamp
    /// What the status means and what to do about it.
    public var diagnosis: String
    /// True when the failure will not go away by itself (401/403: licence or permission).
    public var isPersistent: Bool
    /// The header item as received.
    public var rawItem: String

    public init(
        vendor: String, provider: String, httpStatus: Int, latencyMilliseconds: Int?, query: String,
        endpoint: String? = nil, tenantId: String? = nil, observedAt: Timestamp, diagnosis: String,
        isPersistent: Bool, rawItem: String
    ) {
        self.vendor = vendor
        self.provider = provider
        self.httpStatus = httpStatus
        self.latencyMilliseconds = latencyMilliseconds
        self.query = query
        self.endpoint = endpoint
        self.tenantId = tenantId
        self.observedAt = observedAt
        self.diagnosis = diagnosis
        self.isPersistent = isPersistent
        self.rawItem = rawItem
    }
}

/// Something the collector reports about itself: a source that cannot authenticate, a sink
/// that rejected events, a malformed page skipped. Sinks receive these like any other event, so
/// the SIEM sees the collector's own trouble.
public struct CollectorHealth: Sendable, Hashable {
    public enum Level: String, Sendable, Hashable, Codable, CaseIterable {
        case info, warning, error, critical
    }

    /// The component that reports (`source:graph-prod`, `sink:qradar`).
    public var component: String
    public var level: Level
    /// A short machine-readable code (`auth_failed`, `page_malformed`).
    public var code: String
    public var message: String
    public var details: [String: String]
    public var observedAt: Timestamp

    public init(
        component: String, level: Level, code: String, message: String, details: [String: String] = [:],
        observedAt: Timestamp = .now()
    ) {
        self.component = component
        self.level = level
        self.code = code
        self.message = message
        self.details = details
        self.observedAt = observedAt
    }
}
