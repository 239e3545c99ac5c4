import CollectorTesting
import CurlTransport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The port a collector running with `state_directory: state` and `metrics.listen` port 0
/// chose (it writes `state/metrics.port`); nil after a minute without it.
func metricsPort(in dir: TemporaryDirectory) async throws -> Int? {
    for _ in 0..<2400 {
        let text = try? String(contentsOfFile: dir.file("state/metrics.port"), encoding: .utf8)
        if let port = text.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) { return port }
        try await Task.sleep(for: .milliseconds(25))
    }
    return nil
}

/// `/metrics` as Prometheus's own `promtool check metrics` sees it, with Graph request counts and
/// latencies recorded through swift-metrics while the collector reads the built-in simulator.
@Suite struct MetricsTests {
    @Test func theExpositionPassesPromtoolAndCountsGraphRequestsByEndpointAndStatus() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write(
            "collector.yaml",
            """
            state_directory: state
            metrics: {listen: "127.0.0.1:0"}
            simulator: {port: 0, alerts_v2: 300, incidents: 20, alerts_v1: 0, throttle_every: 7}
            sources:
              - type: graph-security
                cloud: simulator
                tenants: [{tenant_id: 5f1c7d3e-2a4b-4c6d-8e9f-0a1b2c3d4e5f, client_id: simulator-client, client_secret: simulator-secret}]
                endpoints: [alerts_v2, incidents]
                poll_interval: 1s
                ingestion_lag: 0s
                retry: {initial_delay: 100ms, max_delay: 1s}
            sinks:
              - {type: json-file, name: files, directory: out, fsync: never, spool_max_size: 10mb}
            """)
        let (process, out, err) = try CollectorProcess.start(["run", "--config", config, "--log-level", "error"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let p = try #require(try await metricsPort(in: dir), "the metrics endpoint did not start")
        let client = HTTPClient()
        var text = ""
        // Until both endpoints were read and a throttled answer was counted.
        for _ in 0..<600 {
            text = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(p)/metrics")).bodyText
            if text.contains("endpoint=\"security/incidents\",status=\"200\"") && text.contains("status=\"429\"") {
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        await client.shutdown()
        kill(process.processIdentifier, SIGTERM)
        let result = await CollectorProcess.finish(process, out, err)
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")

        for series in [
            "graph_collector_build_info{version=",
            "graph_collector_graph_requests_total{endpoint=\"security/alerts_v2\",status=\"200\"}",
            "graph_collector_graph_requests_total{endpoint=\"security/incidents\",status=\"200\"}",
            "graph_collector_graph_requests_total{endpoint=\"oauth2/token\",status=\"200\"}",
            "graph_collector_graph_request_duration_seconds_bucket{endpoint=\"security/alerts_v2\",le=\"0.05\"}",
            "graph_collector_graph_request_duration_seconds_count{endpoint=\"security/alerts_v2\"}",
            "graph_collector_sink_queued_bytes{sink=\"files\"", "graph_collector_sink_spool_bytes{sink=\"files\"",
            "graph_collector_sink_accepted_events_total{sink=\"files\"",
        ] {
            #expect(text.contains(series), "\(series) missing in:\n\(text)")
        }
        #expect(text.contains("status=\"429\""), "the simulator's throttling is counted: \(text)")
        // Prometheus's own linter, from Debian's `prometheus` package, fed on standard input.
        let file = try dir.write("metrics.txt", text)
        let check = try await CollectorProcess.runTool("/bin/sh", ["-c", "promtool check metrics < '\(file)'"])
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")
    }
}
