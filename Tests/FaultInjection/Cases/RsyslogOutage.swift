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
    func rsyslogOutage() async throws -> Outcome {
        var outcome = Outcome()
        let w = Workspace()
        defer { w.cleanUp(keep: options.keep) }
        let (sim, url) = try await simulator {
            $0.alertsV2 = options.small
            $0.pageDelay = .seconds(0.25)
        }
        let rsyslog = try RsyslogReceiver()
        let config = try configuration(
            w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 60),
            sinks: [Sinks.syslog(rsyslog), Sinks.files(w.path("out/files"))])
        let receiver = UncheckedBox(rsyslog)
        try await runToEnd(config, w, &outcome) {
            try await Task.sleep(for: .seconds(3))
            receiver.value.stop()
            try await Task.sleep(for: .seconds(5))
            try receiver.value.start()
        }
        let expected = await keys(sim, .alertsV2)
        _ = await settle(target: expected.count) { Set(rsyslogIDs(rsyslog)).count }
        outcome.compare(sink: "syslog (rsyslog stopped 5 s)", got: rsyslogIDs(rsyslog), expected: expected)
        outcome.compare(sink: "json-file", got: jsonFileIDs(w.path("out/files")), expected: expected)
        let retried = sinkStatistic(w, sink: "siem", "retries") + sinkStatistic(w, sink: "siem", "spooled")
        outcome.check(retried > 0, "the outage was felt: \(retried) retries + spooled events")
        await sim.stop()
        return outcome
    }
}
