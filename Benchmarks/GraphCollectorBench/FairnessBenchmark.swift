import CollectorCore
import CollectorTesting
import Foundation
import GraphSimulator
import TestReceivers

#if canImport(Glibc)
    import Glibc
#endif

/// 8. Fairness: while `busy` tenants backfill (each `alerts` alerts, pages answered after
/// `latency`, 150 requests a minute each), a quiet tenant of another source gets a new alert
/// every two seconds and is polled every `poll` seconds. Both sources feed one json-file sink in
/// one `graph-collector` process; the file is read as it grows. Reported: how long after its
/// time each of the quiet tenant's alerts reached the file (target: within the poll interval
/// plus 5 s), and how long the backfill took.
enum FairnessBenchmark {
    static func run(busy: Int, alerts: Int, latency: Double, poll: Int) async throws {
        var heavy = SimulatorConfiguration()
        heavy.tenants = busy
        heavy.alertsV2 = alerts
        heavy.alertsV1 = 0
        heavy.incidents = 0
        heavy.history = .seconds(7 * 86_400)
        heavy.pageDelay = .seconds(latency)
        heavy.rateLimitPerMinute = 150
        var quiet = SimulatorConfiguration()
        quiet.tenantId = "0ea1e7a1-0000-4000-8000-000000000000"
        quiet.alertsV2 = 0
        quiet.alertsV1 = 0
        quiet.incidents = 0
        quiet.arrivalRate = 0.5
        quiet.updateAfter = .seconds(86_400)
        let heavySimulator = GraphSimulator(configuration: heavy)
        let quietSimulator = GraphSimulator(configuration: quiet)
        let heavyURL = try await heavySimulator.start()
        let quietURL = try await quietSimulator.start()
        let directory = TemporaryDirectory(prefix: "bench-fairness")
        defer { directory.remove() }
        let config = try configuration(
            in: directory, heavy: heavy, heavyURL: heavyURL, quiet: quiet, quietURL: quietURL, poll: poll)
        let log = directory.file("collector.log")
        let clock = ContinuousClock()
        let start = clock.now
        let pid = try RsyslogReceiver.spawn(
            CollectorProcess.executable, ["run", "--config", config, "--log-level", "warning"], log: log)
        let expected = busy * alerts
        let (file, quietTenant) = (directory.file("out/alerts.ndjson"), quiet.tenantId)
        let (latencies, backfillSeconds) = await ProcessWatch.onOwnThread {
            follow(file, quietTenant: quietTenant, expected: expected, pid: pid)
        }
        let wall = (clock.now - start).seconds
        kill(pid, SIGTERM)
        let watch = await ProcessWatch.watching(pid, timeout: 60)
        await heavySimulator.stop()
        await quietSimulator.stop()
        guard let backfillSeconds else {
            throw BenchError(
                "the backfill did not finish: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")"
            )
        }
        let sorted = latencies.sorted()
        guard !sorted.isEmpty else { throw BenchError("no alert of the quiet tenant arrived") }
        let median = sorted[sorted.count / 2]
        let worst = sorted[sorted.count - 1]
        printTable(
            "8. Fairness: \(busy) tenants backfill \(formatted(Double(alerts))) alerts each (\(Int(latency * 1000)) ms "
                + "a page) while a quiet tenant polled every \(poll) s gets an alert every 2 s",
            [
                Row(
                    name: "quiet tenant's new alerts, time to the sink", events: sorted.count, bytes: 0, wall: wall,
                    cpu: watch.cpuSeconds, peakRSS: watch.peakRSS,
                    note:
                        "median \(formatted(median, 1)) s, worst \(formatted(worst, 1)) s (target ≤ \(poll + 5) s); "
                        + "the backfill's \(formatted(Double(expected))) alerts took \(formatted(backfillSeconds, 1)) s"
                )
            ])
    }

    /// Two Graph sources (the backfilling tenants, the quiet one), one json-file sink.
    static func configuration(
        in directory: TemporaryDirectory, heavy: SimulatorConfiguration, heavyURL: String,
        quiet: SimulatorConfiguration, quietURL: String, poll: Int
    ) throws -> String {
        let tenants = heavy.tenantIds.map {
            "      - {tenant_id: \($0), client_id: \(heavy.clientId), client_secret: \(heavy.clientSecret)}"
        }
        return try directory.write(
            "collector.yaml",
            """
            state_directory: state
            sources:
              - type: graph-security
                name: backfilling
                login_url: \(heavyURL)
                graph_url: \(heavyURL)
                tenants:
            \(tenants.joined(separator: "\n"))
                endpoints: [alerts_v2]
                ingestion_lag: 0s
                look_back: 8d
              - type: graph-security
                name: quiet
                login_url: \(quietURL)
                graph_url: \(quietURL)
                tenants: [{tenant_id: \(quiet.tenantId), client_id: \(quiet.clientId), client_secret: \(quiet.clientSecret)}]
                endpoints: [alerts_v2]
                ingestion_lag: 0s
                poll_interval: \(poll)s
            sinks:
              - {type: json-file, directory: out, path: "alerts.ndjson", max_file_size: 10GiB}
            """)
    }

    /// Reads the sink's file as it grows until the backfill's alerts are all there (and 2 s more):
    /// each quiet-tenant alert's delay from its time to its line, and when the backfill ended.
    static func follow(_ path: String, quietTenant: String, expected: Int, pid: pid_t) -> ([Double], Double?) {
        let started = Date()
        var latencies: [Double] = []
        var others = 0
        var offset: UInt64 = 0
        var partial = Data()
        var doneAt: Date?
        let alertMarker = Data(#""event_type":"alert""#.utf8)
        let quietMarker = Data(#""tenant_id":"\#(quietTenant)""#.utf8)
        while RsyslogReceiver.isAlive(pid), Date().timeIntervalSince(started) < 1800 {
            if let handle = FileHandle(forReadingAtPath: path) {
                try? handle.seek(toOffset: offset)
                let data = handle.readDataToEndOfFile()
                try? handle.close()
                offset += UInt64(data.count)
                partial.append(data)
                let now = Date()
                // Whole lines only; what follows the last newline waits for the next read.
                guard let last = partial.lastIndex(of: 0x0A) else { continue }
                let lines = partial[partial.startIndex...last]
                for line in lines.split(separator: 0x0A) where line.range(of: alertMarker) != nil {
                    guard line.range(of: quietMarker) != nil else {
                        others += 1
                        continue
                    }
                    if let event = try? JSONParser.parse(bytes: Array(line)),
                        let time = event["last_updated_at"]?.stringValue.flatMap(Timestamp.init(iso8601:))
                    {
                        latencies.append(now.timeIntervalSince1970 - Double(time.nanosecondsSinceEpoch) / 1e9)
                    }
                }
                partial = Data(partial[partial.index(after: last)...])
            }
            if doneAt == nil, others >= expected { doneAt = Date() }
            if let doneAt, Date().timeIntervalSince(doneAt) > 2 { break }
            usleep(100_000)
        }
        return (latencies, doneAt.map { $0.timeIntervalSince(started) })
    }
}
