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
    func apiFaults() async throws -> Outcome {
        var outcome = Outcome()
        let w = Workspace()
        defer { w.cleanUp(keep: options.keep) }
        let (sim, url) = try await simulator { c in
            c.alertsV2 = options.small / 2
            c.alertsV1 = options.small / 4
            c.incidents = max(50, options.small / 40)
            c.failingProviders = [
                .init(provider: "IPC", status: 504, failures: 3, latencyMilliseconds: 10_000),
                .init(provider: "ASC", status: 429, failures: 2),
            ]
            c.throttleEvery = 7
            c.serverErrorEvery = 11
            c.truncateEvery = 13
            c.revokeTokenEvery = 17
            c.rejectSkipTokenEvery = 5
            c.tokenLifetime = .seconds(3)
            c.pageDelay = .seconds(0.02)
        }
        let config = try configuration(
            w, simulator: sim, url: url, endpoints: "[alerts_v2, alerts, incidents]",
            pageSize: max(50, options.small / 100),
            sinks: [Sinks.files(w.path("out/files"))])
        try await runToEnd(config, w, &outcome)
        let got = jsonFileIDs(w.path("out/files"))
        var expected = Set<String>()
        for endpoint in [GraphEndpoint.alertsV2, .alerts, .incidents] { expected.formUnion(await keys(sim, endpoint)) }
        outcome.compare(
            sink: "json-file (206, 429, 503, truncated, 401, SkipToken, 3 s tokens)", got: got, expected: expected)
        let stats = await sim.statistics
        outcome.check(
            stats.partialAnswers > 0 && stats.throttled > 0 && stats.tokensIssued > 1,
            "faults happened: \(stats.partialAnswers) partial answers, \(stats.throttled) throttled, "
                + "\(stats.tokensIssued) tokens issued, \(stats.apiRequests) requests"
        )
        // Every failing provider is diagnosed. (Not every failure the simulator counts: an
        // answer it truncated or refused is discarded by the collector, warnings and all.)
        var warnings: [String: Int] = [:]
        for file in files(under: w.path("out/files"), suffix: ".ndjson") {
            for line in String(decoding: read(file), as: UTF8.self).split(separator: "\n")
            where line.contains("\"event_type\":\"provider_warning\"") {
                for provider in ["IPC", "ASC"] where line.contains("\"provider\":\"\(provider)\"") {
                    warnings[provider, default: 0] += 1
                }
            }
        }
        outcome.check(
            (warnings["IPC"] ?? 0) >= 1 && (warnings["ASC"] ?? 0) >= 1,
            "provider_warning events: IPC \(warnings["IPC"] ?? 0) (failed 3 times), ASC \(warnings["ASC"] ?? 0) (failed twice)"
        )
        await sim.stop()
        return outcome
    }
}
