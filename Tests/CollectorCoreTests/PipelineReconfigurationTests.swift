import CollectorTesting
import Logging
import Synchronization
import Testing

@testable import CollectorCore

/// A SIGHUP's reconfiguration while sources keep publishing: every event reaches each sink
/// exactly once, old or new, and publications wait rather than miss a sink.
@Suite struct PipelineReconfigurationTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func ids(_ sink: InMemorySink) async -> [String] { await sink.events.compactMap(\.alert?.id) }

    @Test func aReplacedSinkGetsEveryEventOnceAcrossOldAndNewAndAnAddedOneTheRest() async throws {
        let old = InMemorySink()
        let kept = InMemorySink()
        let gone = InMemorySink()
        let batch = BatchPolicy(maxEvents: 7, maxDelay: .seconds(0.005))
        let pipeline = EventPipeline(
            sinks: [
                .init(name: "changed", sink: old, batch: batch), .init(name: "kept", sink: kept, batch: batch),
                .init(name: "gone", sink: gone, batch: batch),
            ], logger: logger)
        let running = Task { try await pipeline.run() }
        let total = 4_000
        // Two publishers, like two sources; each waits for the required sinks' receipts.
        let publishers = (0..<2).map { p in
            Task {
                for start in stride(from: p * total / 2, to: (p + 1) * total / 2, by: 10) {
                    let receipt = try await pipeline.publish(SampleEvents.alerts(start..<start + 10))
                    let report = await receipt.delivered()
                    #expect(report.isComplete)
                }
            }
        }
        while await old.events.count < 500 { try await Task.sleep(for: .milliseconds(1)) }
        let replacement = InMemorySink()
        let added = InMemorySink()
        let applied = await pipeline.reconfigure(removing: ["changed", "gone"]) {
            // The leaving sinks are closed before their successors are made.
            let closed = (await old.closed, await gone.closed)
            #expect(closed == (true, true))
            return [
                .init(name: "changed", sink: replacement, batch: batch),
                .init(name: "added", sink: added, batch: batch),
            ]
        }
        #expect(applied == .applied)
        #expect(pipeline.sinkNames == ["kept", "changed", "added"])
        for publisher in publishers { try await publisher.value }
        await pipeline.shutdown()
        try await running.value

        let all = Set(SampleEvents.alerts(0..<total).compactMap(\.alert?.id))
        let keptIDs = await ids(kept)
        #expect(Set(keptIDs) == all && keptIDs.count == total)
        let before = await ids(old)
        let after = await ids(replacement)
        #expect(before.count + after.count == total && Set(before + after) == all, "each once, old or new")
        #expect(Set(before) == Set(await ids(gone)), "the removed sink drained what the changed one did")
        #expect(Set(after) == Set(await ids(added)), "the added sink got everything published after")
        #expect(!after.isEmpty && before.count >= 500)
        let closed = (await replacement.closed, await added.closed)
        #expect(closed == (true, true))
    }

    @Test func aReconfigurationDuringShutdownChangesNothing() async throws {
        let sink = InMemorySink()
        let pipeline = EventPipeline(sinks: [.init(name: "s", sink: sink)], logger: logger)
        let running = Task { try await pipeline.run() }
        await pipeline.shutdown()
        let made = Mutex(false)
        let applied = await pipeline.reconfigure(removing: []) {
            made.withLock { $0 = true }
            return [.init(name: "late", sink: InMemorySink())]
        }
        #expect(applied == .shuttingDown)
        try await running.value
        #expect(!made.withLock { $0 }, "no sink is made once the pipeline is shutting down")
        #expect(pipeline.sinkNames == ["s"])
    }

    /// A publication blocked on a stalled sink's full queue must not hold a reload (or the
    /// publications queued behind it) forever: the reload gives up after the drain timeout.
    @Test func aReconfigurationBlockedByAStalledSinkGivesUpAndPublicationsGoOn() async throws {
        let stalled = InMemorySink()
        await stalled.pause()
        let pipeline = EventPipeline(
            sinks: [.init(name: "s", sink: stalled, batch: BatchPolicy(maxEvents: 1), queueCapacity: 2)],
            drainTimeout: .milliseconds(300), logger: logger)
        let running = Task { try await pipeline.run() }
        // Fills the queue (2) and the write in progress, then blocks on the full queue.
        let blocked = Task { for n in 0..<5 { _ = try await pipeline.publish(SampleEvents.alerts(n..<n + 1)) } }
        while await stalled.writeAttempts < 1 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        let outcome = await pipeline.reconfigure(removing: ["s"]) { [] }
        #expect(outcome == .blocked)
        #expect(pipeline.sinkNames == ["s"], "nothing changed")
        await stalled.resume()
        try await blocked.value
        let receipt = try await pipeline.publish(SampleEvents.alerts(10..<11))
        #expect(await receipt.delivered().isComplete, "publications go on after the reload gave up")
        await pipeline.shutdown()
        try await running.value
        #expect(await stalled.events.count == 6)
    }
}
