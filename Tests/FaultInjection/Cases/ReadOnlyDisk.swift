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
    func readOnlyDisk() async throws -> Outcome {
        var outcome = Outcome()
        let w = Workspace()
        defer { w.cleanUp(keep: options.keep) }
        // Linux refuses to remount read-only under a file open for writing (EBUSY), as a
        // running file sink holds one; so the volume goes read-only between two runs, as after
        // an ext4 error and a reboot, and comes back while the second run is collecting.
        let (sim, url) = try await simulator {
            $0.alertsV2 = options.small
            $0.pageDelay = .seconds(0.25)
        }
        let disk = try w.mountTmpfs("disk", size: "1g")
        let config = try configuration(
            w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 60),
            sinks: [Sinks.files("\(disk)/files")])
        let first = try CollectorRun(config: config, log: w.path("first.log"))
        try await Task.sleep(for: .seconds(2))
        kill(first.pid, SIGTERM)
        let stopped = await first.wait(timeout: .seconds(60))
        outcome.check(stopped == 0, "first run stopped by SIGTERM with \(stopped.map(String.init) ?? "no exit")")
        try w.remount(disk, readOnly: true)
        let workspace = UncheckedBox(w)
        try await runToEnd(config, w, &outcome, label: "second run") {
            try await Task.sleep(for: .seconds(4))
            try workspace.value.remount(disk, readOnly: false)
        }
        let expected = await keys(sim, .alertsV2)
        outcome.compare(sink: "json-file (read-only for 4 s)", got: jsonFileIDs("\(disk)/files"), expected: expected)
        let retried = sinkStatistic(w, sink: "files", "retries") + sinkStatistic(w, sink: "files", "spooled")
        outcome.check(retried > 0, "the read-only disk was felt: \(retried) retries + spooled events")
        await sim.stop()
        return outcome
    }
}
