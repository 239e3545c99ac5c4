import CollectorCore
import CollectorTesting
import Foundation
import GraphSecuritySource
import GraphSimulator
import GzipStream
import TestReceivers

#if canImport(Glibc)
    import Glibc
#endif

extension CaseRunner {
    func kill9() async throws -> Outcome {
        var outcome = Outcome()
        let w = Workspace()
        defer { w.cleanUp(keep: options.keep) }
        // Slow enough pages keep the collection long enough for every kill to land inside it:
        // at least 2 s of paging per kill (kills come 0.5-3 s after each start).
        let pages = Double((options.alerts + 999) / 1000)
        let (sim, url) = try await simulator {
            $0.alertsV2 = options.alerts
            $0.pageDelay = .seconds(max(0.3, Double(options.kills) * 2 / pages))
        }
        let rsyslog = try RsyslogReceiver()
        let webhook = try await WebhookReceiver(secrets: [webhookSecret])
        let config = try configuration(
            w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: 1000,
            sinks: [
                Sinks.files(w.path("out/files")), Sinks.archive(w.path("out/archive")), Sinks.syslog(rsyslog),
                Sinks.webhook(webhook),
            ])
        var killed = 0
        var finishedEarly = false
        while killed < options.kills {
            let run = try CollectorRun(config: config, log: w.path("run-\(killed + 1).log"))
            let delay = Double.random(in: 0.5...3.0, using: &random)
            try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            if let status = run.poll() {
                outcome.check(
                    status == 0,
                    "run \(killed + 1) ended by itself with \(status) before its kill"
                        + (status == 0 ? "" : ":\n" + run.tail))
                finishedEarly = true
                break
            }
            run.kill9()
            killed += 1
        }
        outcome.check(!finishedEarly, "\(killed) of \(options.kills) kills landed during the collection")
        try await runToEnd(config, w, &outcome, label: "final run")
        let expected = await keys(sim, .alertsV2)
        outcome.check(expected.count == options.alerts, "the simulator shows \(expected.count) alerts")
        outcome.compare(sink: "json-file", got: jsonFileIDs(w.path("out/files")), expected: expected)
        let verify = try await CollectorProcess.run(["archive", "verify", w.path("out/archive")])
        outcome.check(
            verify.status == 0,
            "archive verify: exit \(verify.status) " + verify.stdout.split(separator: "\n").suffix(1).joined())
        outcome.compare(sink: "gzip-archive", got: try archiveIDs(w.path("out/archive")), expected: expected)
        _ = await settle(target: expected.count) { Set(rsyslogIDs(rsyslog)).count }
        outcome.compare(sink: "syslog (rsyslog)", got: rsyslogIDs(rsyslog), expected: expected)
        _ = await settle(target: expected.count) {
            var ids: [String] = []
            alertIDs(ndjson: read(webhook.directory.file("events.ndjson")), into: &ids)
            return Set(ids).count
        }
        var hooked: [String] = []
        alertIDs(ndjson: read(webhook.directory.file("events.ndjson")), into: &hooked)
        outcome.compare(sink: "webhook", got: hooked, expected: expected)
        await sim.stop()
        return outcome
    }
}
