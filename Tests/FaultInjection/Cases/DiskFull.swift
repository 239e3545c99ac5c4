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
    func diskFull() async throws -> Outcome {
        var outcome = Outcome()
        let w = Workspace()
        defer { w.cleanUp(keep: options.keep) }
        let (sim, url) = try await simulator {
            $0.alertsV2 = options.small
            $0.pageDelay = .seconds(0.25)
        }
        let disk = try w.mountTmpfs("disk", size: "1g")
        let config = try configuration(
            w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 60),
            sinks: [Sinks.files("\(disk)/files")])
        try await runToEnd(config, w, &outcome) {
            try await Task.sleep(for: .seconds(3))
            _ = shell("dd if=/dev/zero of=\(disk)/ballast bs=1M")  // until ENOSPC
            try await Task.sleep(for: .seconds(5))
            try FileManager.default.removeItem(atPath: "\(disk)/ballast")
        }
        let expected = await keys(sim, .alertsV2)
        outcome.compare(sink: "json-file (disk full for 5 s)", got: jsonFileIDs("\(disk)/files"), expected: expected)
        let torn = files(under: "\(disk)/files", suffix: ".ndjson").map { read($0) }.filter {
            !$0.isEmpty && $0.last != 0x0A
        }.count
        outcome.check(torn == 0, "\(torn) files end in a torn line")
        let retried = sinkStatistic(w, sink: "files", "retries") + sinkStatistic(w, sink: "files", "spooled")
        outcome.check(retried > 0, "the full disk was felt: \(retried) retries + spooled events")
        await sim.stop()
        return outcome
    }
}
