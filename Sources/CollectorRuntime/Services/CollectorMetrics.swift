import CollectorCore
import CurlTransport
import GraphSecuritySource
import Metrics
import Prometheus

/// The process's swift-metrics backend: one Prometheus registry, bootstrapped once, served by
/// `/metrics` after the pipeline's and the sources' series. Anything in the process that records
/// through swift-metrics (`Counter(label:)`, `Timer(label:)`, a custom sink's own series) appears
/// there too.
enum CollectorMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Graph answers take from tens of milliseconds to a minute (a slow provider's timeout).
        factory.durationHistogramBuckets[GraphRequestMetrics.duration] = [
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        MetricsSystem.bootstrap(factory)
        let build = registry.makeGauge(
            name: "graph_collector_build_info",
            labels: [("version", CollectorVersion.current), ("libcurl", CurlLibrary.versionSummary)],
            help: "Always 1; the labels name the collector's version and the libcurl it runs on.")
        build.set(to: 1.0)
        return registry
    }()

    /// Bootstraps swift-metrics with the registry (once per process; later calls do nothing).
    static func bootstrap() { _ = registry }

    /// Help for the series recorded through swift-metrics, whose API carries none.
    static let help: [String: String] = [
        GraphRequestMetrics.requests: "Requests to Microsoft Graph and its sign-in endpoint, by endpoint and answer.",
        GraphRequestMetrics.duration: "How long Graph requests took, by endpoint.",
    ]

    /// The registry's series, each with a `# HELP` line (promtool wants one): from ``help``, or
    /// a generic one for series a plugin records.
    static func exposition() -> String {
        var out = ""
        var helped: Set<Substring> = []
        for line in registry.emitToString().split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# HELP ") {
                helped.insert(line.dropFirst(7).prefix { $0 != " " })
            } else if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                if !helped.contains(name) {
                    out += "# HELP \(name) \(help[String(name)] ?? "Recorded through swift-metrics.")\n"
                }
            }
            out += line.isEmpty ? "" : "\(line)\n"
        }
        return out
    }
}
