import CollectorCore
import CollectorTesting
import Foundation
import GraphSecuritySource
import GraphSimulator
import TestReceivers

extension CaseRunner {
    /// The nats-jetstream sink on a 3-node JetStream cluster (replicas 3): the collector is
    /// killed with SIGKILL five times during the collection, and a NATS node besides, and the
    /// stream must still hold every alert exactly once, as NATS's own Python client counts them.
    func jetStreamKill9() async throws -> Outcome {
        var outcome = Outcome()
        let w = Workspace()
        defer { w.cleanUp(keep: options.keep) }
        let kills = 5
        let pages = Double((options.small + 999) / 1000)
        let (sim, url) = try await simulator {
            $0.alertsV2 = options.small
            $0.pageDelay = .seconds(max(0.3, Double(kills) * 2 / pages))
        }
        let cluster = try NatsCluster(nodes: 3)
        try await cluster.waitUntilReady()
        let servers = cluster.urls.map { "\"\($0)\"" }.joined(separator: ", ")
        let sink =
            "{type: nats-jetstream, name: jetstream, servers: [\(servers)], subject: \"graph.{event_type}.{severity}\", "
            + "stream: {name: ALERTS, subjects: [\"graph.>\"], replicas: 3}, ack_timeout: 5s, \(Sinks.retry)}"
        let config = try configuration(
            w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: 1000, sinks: [sink])
        var killed = 0
        while killed < kills {
            let run = try CollectorRun(config: config, log: w.path("run-\(killed + 1).log"))
            try await Task.sleep(for: .milliseconds(Int(Double.random(in: 0.5...2.5, using: &random) * 1000)))
            if let status = run.poll() {
                outcome.check(false, "run \(killed + 1) ended by itself with \(status) before its kill:\n" + run.tail)
                break
            }
            run.kill9()
            killed += 1
            if killed == 3 { cluster.kill(node: 1) }  // and a NATS node, left down to the end
        }
        outcome.check(
            killed == kills, "\(killed) of \(kills) collector kills landed during the collection, and n2 died")
        try await runToEnd(config, w, &outcome, label: "final run")
        let expected = Set(await sim.visibleIDs(.alertsV2))
        let count = try await cluster.count(stream: "ALERTS")
        let alertIDs = count.ids.compactMap { id -> String? in
            guard let at = id.lastIndex(of: "@"), let colon = id[..<at].lastIndex(of: ":") else { return nil }
            return String(id[id.index(after: colon)..<at])
        }
        outcome.compare(sink: "nats-jetstream (read by nats-py)", got: alertIDs, expected: expected)
        outcome.check(
            count.messages == count.uniqueIDs && count.repeatedIDs == 0 && count.withoutID == 0,
            "exactly once in the stream: \(count.messages) messages, \(count.uniqueIDs) ids, \(count.repeatedIDs) repeated"
        )
        await sim.stop()
        return outcome
    }
}
