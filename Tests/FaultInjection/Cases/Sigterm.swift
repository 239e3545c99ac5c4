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
    func sigterm() async throws -> Outcome {
        var outcome = Outcome()
        let w = Workspace()
        defer { w.cleanUp(keep: options.keep) }
        // Graceful stops: each run waits for what it published to be accepted and checkpoints
        // it, so the restarts repeat nothing. Pages of 50 make a backfill of 12–19 slices of about
        // 25 pages (at 20,000 alerts): a stop finds slices done ahead of the checkpoint, whose keys
        // the slices no longer keep, and slices part-way through many pages (1,401 and 3,191
        // repeats when slices dropped their keys every 8 pages and a stop merged what was left).
        let (sim, url) = try await simulator {
            $0.alertsV2 = options.small
            $0.pageDelay = .seconds(0.05)
        }
        let rsyslog = try RsyslogReceiver()
        let config = try configuration(
            w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 400),
            sinks: [Sinks.files(w.path("out/files")), Sinks.syslog(rsyslog)])
        for n in 1...3 {
            let run = try CollectorRun(config: config, log: w.path("run-\(n).log"))
            try await Task.sleep(for: .milliseconds(Int(Double.random(in: 1.5...3.0, using: &random) * 1000)))
            kill(run.pid, SIGTERM)
            let status = await run.wait(timeout: .seconds(60))
            outcome.check(
                status == 0,
                "run \(n) stopped by SIGTERM with \(status.map(String.init) ?? "no exit in 60 s")"
                    + (status == 0 ? "" : ":\n" + run.tail))
        }
        try await runToEnd(config, w, &outcome, label: "final run")
        let expected = await keys(sim, .alertsV2)
        let files = jsonFileIDs(w.path("out/files"))
        outcome.compare(sink: "json-file", got: files, expected: expected)
        outcome.check(
            files.count == Set(files).count,
            "graceful stops repeated nothing: \(files.count - Set(files).count) duplicates")
        _ = await settle(target: expected.count) { Set(rsyslogIDs(rsyslog)).count }
        outcome.compare(sink: "syslog (rsyslog)", got: rsyslogIDs(rsyslog), expected: expected)
        await sim.stop()
        return outcome
    }
}
