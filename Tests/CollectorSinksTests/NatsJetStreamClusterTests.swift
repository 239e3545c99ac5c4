import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import TestReceivers
import Testing

/// The nats-jetstream sink on a real 3-node JetStream cluster (replicas 3), through the
/// pipeline, with the stream's leader killed mid-stream.
@Suite(.serialized) struct NatsJetStreamClusterTests {
    @Test func twentyThousandAlertsArriveExactlyOnceWithTheStreamLeaderKilledMidStream() async throws {
        let cluster = try NatsCluster(nodes: 3)
        try await cluster.waitUntilReady()
        let sink = NatsJetStreamSink(
            configuration: try NatsJetStreamSinkTests.config(cluster, extra: "max_pending: 512"), logger: quiet)
        try await sink.start()
        let leader = try await cluster.leader(of: "ALERTS")
        let leaderIndex = try #require(cluster.index(of: leader), "leader '\(leader)'")
        let pipeline = EventPipeline(
            sinks: [
                .init(
                    name: "jetstream", sink: sink, batch: BatchPolicy(maxEvents: 500, maxDelay: .seconds(0.05)),
                    retry: RetryPolicy(initialDelay: .seconds(0.1), maxDelay: .seconds(1)))
            ],
            logger: quiet)
        let running = Task { try await pipeline.run() }
        let events = SampleEvents.alerts(0..<20_000)
        let killer = Task {
            while await sink.statistics.stored < 5_000 { try await Task.sleep(for: .milliseconds(2)) }
            try await Task.sleep(for: .milliseconds(15))  // into the next batch's publishing
            cluster.kill(node: leaderIndex)
            return await sink.statistics.stored
        }
        var receipts: [DeliveryReceipt] = []
        for start in stride(from: 0, to: events.count, by: 500) {
            receipts.append(try await pipeline.publish(Array(events[start..<start + 500])))
        }
        for receipt in receipts { #expect(await receipt.delivered().isComplete) }
        let storedAtKill = try await killer.value
        await pipeline.shutdown()
        try await running.value
        let stats = await sink.statistics
        try await sink.close()
        #expect(storedAtKill < 20_000, "the leader died mid-stream, after \(storedAtKill) alerts")
        #expect(stats.retryableFailures > 0, "a batch was in flight when the leader died, and was retried")

        let count = try await cluster.count(stream: "ALERTS")
        print(
            "nats cluster: leader \(leader) killed after \(storedAtKill) stored; \(stats.retryableFailures) retried "
                + "batches, \(stats.duplicates) duplicates dropped by the stream; nats-py read \(count.messages)")
        #expect(count.messages == 20_000 && count.streamMessages == 20_000, "\(count)")
        #expect(count.uniqueIDs == 20_000 && count.repeatedIDs == 0, "each exactly once: \(count)")
        #expect(count.ids == Set(events.map { NatsJetStreamSink.messageID(for: $0, format: .json) }), "0 lost")
    }
}
