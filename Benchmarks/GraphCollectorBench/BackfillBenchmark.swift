import CollectorCore
import CollectorTesting
import Foundation
import GraphSimulator
import TestReceivers

#if canImport(Glibc)
    import Glibc
#endif

/// 5. End-to-end backfill: the real `graph-collector` process collects N alerts_v2 from the
/// simulator (over loopback HTTP, each page answered after `latency`, the simulator refusing
/// more than `requestsPerMinute` requests a minute with 429) into a syslog sink (LEEF over TCP
/// to a counting receiver). Reported: wall time against the throttle-bound minimum (every page
/// request at the documented rate), 429s provoked, and the collector's peak RSS.
enum BackfillBenchmark {
    static func run(sizes: [Int], requestsPerMinute rpm: Int, latency: Double) async throws {
        var rows: [Row] = []
        for (size, slices) in runs(sizes) {
            var c = SimulatorConfiguration()
            c.alertsV2 = size
            c.alertsV1 = 0
            c.incidents = 0
            c.history = .seconds(30 * 86_400)
            c.pageDelay = .seconds(latency)
            c.rateLimitPerMinute = rpm
            let simulator = GraphSimulator(configuration: c)
            let url = try await simulator.start()
            // What the simulator itself spends on a page (select and render 1000 of N alerts),
            // on top of the configured latency: nextLink paging is sequential, so this bounds too.
            let serviceClock = ContinuousClock()
            let serviceStart = serviceClock.now
            for _ in 0..<3 { _ = await simulator.samplePage(.alertsV2, count: 1000) }
            let service = (serviceClock.now - serviceStart).seconds / 3
            let receiver = try CountingReceiver()
            let directory = TemporaryDirectory(prefix: "bench-backfill")
            defer { directory.remove() }
            let config = try Self.configuration(
                in: directory, simulator: c, url: url, rpm: rpm, port: receiver.port, slices: slices)
            let log = directory.file("collector.log")
            let clock = ContinuousClock()
            let start = clock.now
            let pid = try RsyslogReceiver.spawn(
                CollectorProcess.executable, ["run", "--config", config, "--log-level", "warning"], log: log)
            // The collector's peak RSS, read from /proc while it runs: its ru_maxrss would include
            // this process's size at spawn time (exec records the old address space's peak).
            var peak = 0
            var status: Int32 = 0
            var usage = rusage()
            while wait4(pid, &status, WNOHANG, &usage) == 0 {
                peak = max(peak, SyslogBenchmark.processPeakRSS(pid) ?? 0)
                // Not usleep: the simulator shares this process's two cooperative threads, and a
                // blocked one delays its answers (and how it counts requests against its limit).
                try await Task.sleep(for: .milliseconds(100))
            }
            let wall = (clock.now - start).seconds
            let stats = await simulator.statistics
            await simulator.stop()
            guard status == 0 else {
                throw BenchError(
                    "the collector exited with \(status): \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")"
                )
            }
            _ = receiver.wait(timeout: 30) { $0.closedConnections >= 1 }
            let pages = (size + 999) / 1000
            // Every page request at the documented rate: the fastest a throttled backfill can be.
            let bound = Double(pages) * 60 / Double(rpm)
            // One page after another, each taking the latency plus the simulator's own time.
            let paging = Double(pages) * (latency + service)
            let cpu =
                Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
                + Double(usage.ru_stime.tv_usec) / 1e6
            rows.append(
                Row(
                    name:
                        "backfill \(formatted(Double(size))) alerts_v2, \(rpm) req/min, \(Int(latency * 1000)) ms/page, "
                        + (slices > 1 ? "\(slices) slices at a time" : "one page after another"),
                    events: size,
                    bytes: receiver.bytes, wall: wall, cpu: cpu, peakRSS: peak,
                    note:
                        "throttle bound \(formatted(bound, 1)) s (\(formatted(100 * wall / bound, 1)) % of it); "
                        + "sequential paging bound \(formatted(paging, 1)) s (\(formatted(100 * wall / paging, 1)) "
                        + "%; the simulator takes \(Int(service * 1000)) ms a page); \(stats.throttled) × 429; "
                        + "\(stats.apiRequests) requests; RSS is the collector's"
                ))
        }
        printTable(
            "5. End-to-end backfill through the throttle (the collector as its own process; LEEF over TCP to a "
                + "counting receiver)",
            rows)
    }

    /// Each size in slices (the default), and up to 200,000 also one page after another
    /// (parallel_slices: 1), the reference, in the same run. BENCH_BACKFILL_SLICES="4" (or
    /// "3,1", ...) runs those slice counts instead, at every size.
    static func runs(_ sizes: [Int]) -> [(size: Int, slices: Int)] {
        let chosen = ProcessInfo.processInfo.environment["BENCH_BACKFILL_SLICES"]?.split(separator: ",").compactMap {
            Int($0)
        }
        return sizes.flatMap { size in
            chosen.map { $0.map { (size, $0) } } ?? (size <= 200_000 ? [(size, 4), (size, 1)] : [(size, 4)])
        }
    }

    /// The collector's configuration: the Graph source on the simulator, one syslog sink.
    static func configuration(
        in directory: TemporaryDirectory, simulator c: SimulatorConfiguration, url: String, rpm: Int, port: Int,
        slices: Int
    ) throws -> String {
        try directory.write(
            "collector.yaml",
            """
            state_directory: state
            sources:
              - type: graph-security
                login_url: \(url)
                graph_url: \(url)
                tenants:
                  - {tenant_id: \(c.tenantId), client_id: \(c.clientId), client_secret: \(c.clientSecret)}
                endpoints: [alerts_v2]
                page_size: {alerts_v2: 1000}
                requests_per_minute: \(rpm)
                ingestion_lag: 0s
                look_back: 31d
                parallel_slices: \(slices)
                stop_when_caught_up: true
            sinks:
              - type: syslog
                transport: tcp
                framing: octet-counting
                targets: ["127.0.0.1:\(port)"]
            \(ProcessInfo.processInfo.environment["BENCH_SINK_EXTRA"].map { "    " + $0 } ?? "")
            """)
    }
}
