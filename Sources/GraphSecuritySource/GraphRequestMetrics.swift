import Metrics

/// Graph requests as swift-metrics series (exported by whatever backend the process bootstraps;
/// the collector's `/metrics` is Prometheus): a counter by endpoint and answer, and a latency
/// histogram by endpoint. The endpoint is the URL's path after the API version
/// (`security/alerts_v2`; `oauth2/token` for sign-ins), so paging links add no series.
package enum GraphRequestMetrics {
    package static let requests = "graph_collector_graph_requests_total"
    package static let duration = "graph_collector_graph_request_duration_seconds"

    /// Records one request: `status` is the HTTP status, or nil when no answer came (network).
    static func record(url: String, status: Int?, since start: ContinuousClock.Instant) {
        let endpoint = endpoint(of: url)
        Counter(
            label: requests, dimensions: [("endpoint", endpoint), ("status", status.map(String.init) ?? "network")]
        )
        .increment()
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        Metrics.Timer(label: duration, dimensions: [("endpoint", endpoint)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// `https://graph.microsoft.com/v1.0/security/alerts_v2?$top=…` → `security/alerts_v2`;
    /// `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token` → `oauth2/token`.
    static func endpoint(of url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        rest = rest.drop { $0 != "/" }
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        let parts = rest.split(separator: "/")
        if parts.contains("oauth2") { return "oauth2/token" }
        guard let version = parts.firstIndex(where: { $0 == "v1.0" || $0 == "beta" }) else {
            return parts.prefix(2).joined(separator: "/")
        }
        return parts[(version + 1)...].prefix(2).joined(separator: "/")
    }
}
