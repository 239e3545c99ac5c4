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
        let p90 = sorted[min(sorted.count - 1, sorted.count * 9 / 10)]
        let worst = sorted[sorted.count - 1]
        printTable(
            "8. Fairness: \(busy) tenants backfill \(formatted(Double(alerts))) alerts each (\(Int(latency * 1000)) ms "
                + "a page) while a quiet tenant polled every \(poll) s gets an alert every 2 s",
            [
                Row(
                    name: "quiet tenant's new alerts, time to the sink", events: sorted.count, bytes: 0, wall: wall,
                    cpu: watch.cpuSeconds, peakRSS: watch.peakRSS,
                    note:
                        "median \(formatted(median, 1)) s, p90 \(formatted(p90, 1)) s, worst \(formatted(worst, 1)) s (target ≤ \(poll + 5) s); "
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
    /// Markers are found with `memmem`, so the reader keeps up with the sink (a slower reader
    /// would add its own lag to every latency).
    static func follow(_ path: String, quietTenant: String, expected: Int, pid: pid_t) -> ([Double], Double?) {
        let started = Date()
        var latencies: [Double] = []
        var others = 0
        var doneAt: Date?
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8 << 20)
        let alertMarker = Array(#""event_type":"alert""#.utf8)
        let quietMarker = Array(#""tenant_id":"\#(quietTenant)""#.utf8)
        var file = fd
        defer { if file >= 0 { close(file) } }
        while RsyslogReceiver.isAlive(pid), Date().timeIntervalSince(started) < 1800 {
            if file < 0 { file = open(path, O_RDONLY | O_CLOEXEC) }
            var readSome = false
            while file >= 0 {
                let n = chunk.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
                guard n > 0 else { break }
                pending += chunk[0..<n]
                readSome = true
            }
            let now = Date()
            if readSome, let last = pending.lastIndex(of: 0x0A) {
                let lines = pending[...last]
                let alerts = occurrences(of: alertMarker, in: lines)
                let quiet = occurrences(of: quietMarker, in: lines)
                others += alerts.count - quiet.count
                for at in quiet {
                    let start = (lines[..<at].lastIndex(of: 0x0A)).map { $0 + 1 } ?? lines.startIndex
                    let end = lines[at...].firstIndex(of: 0x0A) ?? lines.endIndex
                    guard let event = try? JSONParser.parse(bytes: Array(lines[start..<end])),
                        event["event_type"]?.stringValue == "alert",
                        let time = event["last_updated_at"]?.stringValue.flatMap(Timestamp.init(iso8601:))
                    else { continue }
                    latencies.append(now.timeIntervalSince1970 - Double(time.nanosecondsSinceEpoch) / 1e9)
                }
                pending.removeSubrange(...last)
            }
            if doneAt == nil, others >= expected { doneAt = Date() }
            if let doneAt, Date().timeIntervalSince(doneAt) > 2 { break }
            usleep(100_000)
        }
        return (latencies, doneAt.map { $0.timeIntervalSince(started) })
    }

    /// Where `needle` starts in `haystack` (indices of `haystack`).
    static func occurrences(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> [Int] {
        haystack.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return [] }
            var found: [Int] = []
            var offset = 0
            while let at = find(needle, in: base + offset, length: raw.count - offset) {
                found.append(haystack.startIndex + offset + at)
                offset += at + needle.count
            }
            return found
        }
    }
}
