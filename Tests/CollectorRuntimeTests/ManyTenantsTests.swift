import CollectorCore
import CollectorTesting
import Foundation
import GraphSimulator
import TestReceivers
import Testing

/// An MSSP's collector: hundreds of tenants in one `graph-collector` process against the
/// simulator (each tenant its own data, token and rate limit), tenants read from a folder.
@Suite struct ManyTenantsTests {
    /// 200 in `make many-tenants`; `make test` runs 60 beside every other suite on two cores.
    static let tenants = Int(ProcessInfo.processInfo.environment["MANY_TENANTS"] ?? "") ?? 60

    @Test func everyTenantsAlertsArriveOnABoundedNumberOfThreads() async throws {
        var c = SimulatorConfiguration()
        c.tenants = Self.tenants
        c.alertsV2 = 12
        c.incidents = 3
        c.alertsV1 = 0
        c.history = .seconds(86_400)
        c.rateLimitPerMinute = 150
        let simulator = GraphSimulator(configuration: c)
        let url = try await simulator.start()
        defer { Task { await simulator.stop() } }
        let dir = TemporaryDirectory(prefix: "many-tenants")
        defer { dir.remove() }
        for (name, text) in c.tenantFiles { try dir.write("tenants/\(name)", text) }
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
        let watch = await ProcessWatch.watching(pid, timeout: 600)
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
        #expect(stats.throttled == 0, "no tenant should be throttled by a first catch-up of 15 alerts")
    }
}

/// A backfill collected in time slices side by side.
@Suite struct SlicedBackfillTests {
    @Test func theCheckpointMovesOnlyOverSlicesTheSinksAcceptedInOrder() async throws {
        let run = try await SimulatorRun { c in
            c.alertsV2 = 3200
            c.alertsV1 = 0
            c.incidents = 0
            c.pageDelay = .seconds(0.3)
        }
        // 160 pages of 20 at 0.3 s: 48 s one after another; eight slices of 20 pages (whole
        // waves of four), four at a time, 6 s a wave at the least: stopped at 11 s, in the second.
        let extra = "page_size: {alerts_v2: 20}\nrequests_per_minute: 100000\nparallel_slices: 4"
        let (first, _) = try await run.collect(endpoints: "[alerts_v2]", extra: extra, cancelAfter: .seconds(11))
        let firstIDs = Set(alertKeys(first, .alertV2))
        #expect(firstIDs.count < 3200, "the run was to be stopped part-way")
        let versions = await run.simulator.visibleVersions(.alertsV2)
        if let saved = try run.checkpoint("alerts_v2")?["watermark"]?.stringValue.flatMap(Timestamp.init(iso8601:)) {
            // Every alert up to the checkpoint was delivered, though slices after it were too.
            let owed = Set(versions.filter { $0.lastUpdate <= saved }.map(\.id))
            print("sliced backfill: \(firstIDs.count) delivered before the stop, \(owed.count) behind the checkpoint")
            #expect(
                owed.isSubset(of: firstIDs), "\(owed.subtracting(firstIDs).count) alerts before the checkpoint lost")
            #expect(firstIDs.count > owed.count, "later slices ran side by side with the first")
        }
        let (second, _) = try await run.collect(endpoints: "[alerts_v2]", extra: extra)
        let secondIDs = alertKeys(second, .alertV2)
        #expect(firstIDs.union(secondIDs) == Set(versions.map(\.id)))
        // Inside one run each alert comes once (slices share only their boundary instants).
        #expect(secondIDs.count - Set(secondIDs).count <= 16, "\(secondIDs.count - Set(secondIDs).count) repeats")
        await run.simulator.stop()
    }
}
