import CollectorCore
import CollectorTesting
import Foundation
import GraphSimulator
import TestReceivers

/// 7. Many tenants in one process: the real `graph-collector` catches up N tenants × 3 endpoints
/// of the simulator (each tenant its own data, token and 150-a-minute rate limit), tenants read
/// from a folder, into a json-file sink. Reported: the most threads the collector had at once,
/// its peak RSS, CPU seconds per 1,000 alerts and the time to catch up, beside the fewest
/// requests that takes (one page per tenant and endpoint).
enum TenantsBenchmark {
    static func run(tenants: Int) async throws {
        var c = SimulatorConfiguration()
        c.tenants = tenants
        c.alertsV2 = 30
        c.incidents = 6
        c.alertsV1 = 10
        c.history = .seconds(86_400)
        c.rateLimitPerMinute = 150
        let simulator = GraphSimulator(configuration: c)
        let url = try await simulator.start()
        let directory = TemporaryDirectory(prefix: "bench-tenants")
        defer { directory.remove() }
        for (name, text) in c.tenantFiles { try directory.write("tenants/\(name)", text) }
        let config = try directory.write(
            "collector.yaml",
            """
            state_directory: state
            sources:
              - type: graph-security
                login_url: \(url)
                graph_url: \(url)
                tenants_directory: tenants
                endpoints: [alerts_v2, incidents, alerts]
                ingestion_lag: 0s
                stop_when_caught_up: true
            sinks:
              - {type: json-file, directory: out, path: "alerts.ndjson", max_file_size: 10GiB}
            """)
        let log = directory.file("collector.log")
        let pid = try RsyslogReceiver.spawn(
            CollectorProcess.executable, ["run", "--config", config, "--log-level", "warning"], log: log)
        let watch = await ProcessWatch.watching(pid, timeout: 1800)
        let stats = await simulator.statistics
        await simulator.stop()
        guard watch.exitStatus == 0 else {
            throw BenchError(
                "the collector exited with \(watch.exitStatus): "
                    + "\((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")")
        }
        let alerts = tenants * (c.alertsV2 + c.incidents + c.alertsV1)
        let lines = try String(contentsOfFile: directory.file("out/alerts.ndjson"), encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"event_type\":\"alert\"") }.count
        guard lines >= alerts else { throw BenchError("\(lines) alerts written, \(alerts) expected") }
        let bytes =
            (try? FileManager.default.attributesOfItem(atPath: directory.file("out/alerts.ndjson"))[.size]) as? Int
        printTable(
            "7. Many tenants: \(formatted(Double(tenants))) tenants × 3 endpoints in one collector process "
                + "(catch-up from the simulator into a json-file sink)",
            [
                Row(
                    name: "\(formatted(Double(tenants))) tenants, \(alerts / tenants) alerts each", events: lines,
                    bytes: bytes ?? 0, wall: watch.wallSeconds, cpu: watch.cpuSeconds, peakRSS: watch.peakRSS,
                    note:
                        "\(watch.maxThreads) threads at most; \(formatted(1000 * watch.cpuSeconds / Double(lines), 2)) "
                        + "CPU s per 1,000 alerts; \(stats.apiRequests) Graph requests (at least "
                        + "\(tenants * 3)), \(stats.tokensIssued) tokens, \(stats.throttled) × 429; caught up in "
                        + "\(formatted(watch.wallSeconds, 1)) s")
            ])
    }
}
