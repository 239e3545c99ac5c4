import CollectorCore
import CollectorTesting
import Foundation
import GraphSimulator
import TestReceivers
import Testing

/// An MSSP's collector: hundreds of tenants in one `graph-collector` process against the
/// simulator (each tenant its own data, token and rate limit), tenants read from a folder.
@Suite struct ManyTenantsTests {
    static let tenants = Int(ProcessInfo.processInfo.environment["MANY_TENANTS"] ?? "") ?? 250

    @Test func everyTenantsAlertsArriveOnABoundedNumberOfThreads() async throws {
        var c = SimulatorConfiguration()
        c.tenants = Self.tenants
        c.alertsV2 = 30
        c.incidents = 6
        c.alertsV1 = 0
        c.history = .seconds(86_400)
        c.rateLimitPerMinute = 150
        let simulator = GraphSimulator(configuration: c)
        let url = try await simulator.start()
        defer { Task { await simulator.stop() } }
        let dir = TemporaryDirectory(prefix: "many-tenants")
        defer { dir.remove() }
        try dir.write("tenants/app.secret", c.clientSecret)
        for id in c.tenantIds {
            try dir.write(
                "tenants/\(id).yaml", "tenant_id: \(id)\nclient_id: \(c.clientId)\nclient_secret_file: app.secret\n")
        }
        let config = try dir.write(
            "collector.yaml",
            """
            state_directory: \(dir.path)/state
            sources:
              - type: graph-security
                login_url: \(url)
                graph_url: \(url)
                tenants_directory: tenants
                endpoints: [alerts_v2, incidents]
                poll_interval: 1s
                ingestion_lag: 0s
                stop_when_caught_up: true
            sinks:
              - {type: json-file, directory: out, path: "alerts.ndjson"}
            """)
        let log = dir.file("collector.log")
        let pid = try RsyslogReceiver.spawn(
            CollectorProcess.executable, ["run", "--config", config, "--log-level", "warning"], log: log)
        let watch = await Task.detached { ProcessWatch.until(exit: pid, timeout: 600) }.value
        let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(watch.exitStatus == 0, "\(logText.suffix(3000))")
        print(
            "many tenants: \(Self.tenants) tenants, \(watch.maxThreads) threads at most, peak RSS "
                + "\(watch.peakRSS >> 20) MiB, \(String(format: "%.1f", watch.cpuSeconds)) s CPU, "
                + "\(String(format: "%.1f", watch.wallSeconds)) s")
        #expect(watch.maxThreads <= 32, "threads grow with tenants: \(watch.maxThreads)")

        // The sink's own output (rotated files too), counted per tenant and kind.
        var lines: [Substring] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.file("out")) {
            lines += try String(contentsOfFile: dir.file("out/\(name)"), encoding: .utf8).split(separator: "\n")
        }
        var seen: [String: Set<String>] = [:]
        for line in lines {
            let event = try JSONParser.parse(bytes: Array(line.utf8))
            guard event["event_type"]?.stringValue == "alert", let tenant = event["tenant_id"]?.stringValue,
                let kind = event["kind"]?.stringValue, let id = event["id"]?.stringValue
            else { continue }
            seen["\(tenant) \(kind)", default: []].insert(id)
        }
        var short: [String] = []
        for id in c.tenantIds {
            if seen["\(id) alert_v2"]?.count != c.alertsV2 {
                short.append("\(id) alerts_v2: \(seen["\(id) alert_v2"]?.count ?? 0)")
            }
            if seen["\(id) incident"]?.count != c.incidents {
                short.append("\(id) incidents: \(seen["\(id) incident"]?.count ?? 0)")
            }
        }
        #expect(short.isEmpty, "tenants short of alerts: \(short.prefix(10)) (of \(short.count))")
        let stats = await simulator.statistics
        #expect(stats.tokensIssued >= Self.tenants)
        #expect(stats.throttled == 0, "no tenant should be throttled by a first catch-up of 36 alerts")
    }
}
