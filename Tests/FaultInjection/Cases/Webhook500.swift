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
    func webhook500() async throws -> Outcome {
        var outcome = Outcome()
        let w = Workspace()
        defer { w.cleanUp(keep: options.keep) }
        let (sim, url) = try await simulator {
            $0.alertsV2 = options.small
            $0.pageDelay = .seconds(0.25)
        }
        let webhook = try await WebhookReceiver(secrets: [webhookSecret])
        let config = try configuration(
            w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 60),
            sinks: [Sinks.webhook(webhook), Sinks.files(w.path("out/files"))])
        let failFile = webhook.failFile
        try await runToEnd(config, w, &outcome) {
            try await Task.sleep(for: .seconds(3))
            _ = FileManager.default.createFile(atPath: failFile, contents: Data())
            try await Task.sleep(for: .seconds(5))
            try FileManager.default.removeItem(atPath: failFile)
        }
        let expected = await keys(sim, .alertsV2)
        var hooked: [String] = []
        alertIDs(ndjson: read(webhook.directory.file("events.ndjson")), into: &hooked)
        outcome.compare(sink: "webhook (500 for 5 s)", got: hooked, expected: expected)
        outcome.compare(sink: "json-file", got: jsonFileIDs(w.path("out/files")), expected: expected)
        let failed = try webhook.attempts().filter { $0.status == 500 }.count
        outcome.check(failed > 0, "the receiver answered 500 to \(failed) requests")
        await sim.stop()
        return outcome
    }
}
