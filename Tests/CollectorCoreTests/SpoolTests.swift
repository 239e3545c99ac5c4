import CollectorCore
import CollectorTesting
import Foundation
import Logging
import Synchronization
import Testing

@Suite struct SpoolTests {
    func segment(_ dir: TemporaryDirectory) -> String { dir.file("spool/segment-0000000001.log") }

    @Test func batchesSurviveReopeningInOrderUntilCommitted() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let spool = Spool(directory: dir.file("spool"), maxBytes: 64 << 20)
        try await spool.open()
        try await spool.append(SampleEvents.alerts(0..<3))
        try await spool.append(SampleEvents.alerts(3..<5))
        try await spool.append([SampleEvents.providerWarning()])
        #expect(await spool.pendingBatches == 3)
        let first = try #require(try await spool.next())
        #expect(first.events == SampleEvents.alerts(0..<3))
        try await spool.commit(first)
        await spool.close()

        let again = Spool(directory: dir.file("spool"), maxBytes: 64 << 20)
        try await again.open()
        #expect(await again.pendingBatches == 2)
        let second = try #require(try await again.next())
        #expect(second.events == SampleEvents.alerts(3..<5))
        try await again.commit(second)
        let third = try #require(try await again.next())
        #expect(third.events == [SampleEvents.providerWarning()])
        try await again.commit(third)
        #expect(try await again.next() == nil)
        #expect(await again.pendingBytes == 0)
        await again.close()
    }

    @Test func aTornTailIsCutAndADamagedRecordIsSkippedAndReported() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let spool = Spool(directory: dir.file("spool"), maxBytes: 64 << 20)
        try await spool.open()
        try await spool.append(SampleEvents.alerts(0..<2))
        try await spool.append(SampleEvents.alerts(2..<4))
        await spool.close()
        // A crash in the middle of a third append.
        let handle = try #require(FileHandle(forWritingAtPath: segment(dir)))
        handle.seekToEndOfFile()
        handle.write(Data("GCS1\u{10}\0\0\0garbage".utf8))
        try handle.close()
        let reopened = Spool(directory: dir.file("spool"), maxBytes: 64 << 20)
        try await reopened.open()
        #expect(await reopened.problems.count == 1)
        #expect(await reopened.pendingBatches == 2)
        // Damage the first record's payload: it is skipped with a report, not a crash loop.
        await reopened.close()
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: segment(dir))))
        bytes[20] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: segment(dir)))
        let damaged = Spool(directory: dir.file("spool"), maxBytes: 64 << 20)
        try await damaged.open()
        #expect(await damaged.problems.isEmpty, "damage in the middle is not a torn tail")
        let survivor = try #require(try await damaged.next())
        #expect(survivor.events == SampleEvents.alerts(2..<4), "the intact record after the damaged one is kept")
        #expect(await damaged.problems.contains { $0.contains("damaged record") })
        try await damaged.commit(survivor)
        #expect(try await damaged.next() == nil)
        try await damaged.append(SampleEvents.alerts(9..<10))
        #expect(try await damaged.next()?.events == SampleEvents.alerts(9..<10))
        await damaged.close()
    }

    @Test func aFullSpoolSaysSo() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let spool = Spool(directory: dir.file("spool"), maxBytes: 4000)
        try await spool.open()
        try await spool.append(SampleEvents.alerts(0..<1))
        await #expect(throws: SpoolFull.self) { try await spool.append(SampleEvents.alerts(0..<20)) }
        await spool.close()
    }

    @Test func aStuckSinkSpoolsSoSourcesAreAcknowledgedAndGetsEverythingInOrderLater() async throws {
        let h = try await SpooledPipeline(queueCapacity: 20)
        defer { h.dir.remove() }
        let (sink, pipeline) = (h.sink, h.pipeline)
        await sink.pause()
        var receipts: [DeliveryReceipt] = []
        for n in stride(from: 0, to: 300, by: 10) {
            receipts.append(try await pipeline.publish(SampleEvents.alerts(n..<n + 10)))
        }
        // Acknowledged while the sink is stuck: everything beyond the queue (the first two
        // batches, one of them in the sink's hands) is on disk.
        for r in receipts.dropFirst(2) { #expect(await r.delivered().isComplete) }
        let stats = await pipeline.statistics()
        #expect(stats[0].spooled == 280, "\(stats[0])")
        await sink.resume()
        for r in receipts.prefix(2) { #expect(await r.delivered().isComplete) }
        for _ in 0..<400 where await sink.events.count < 300 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await sink.events.map { $0.alert!.id } == (0..<300).map { "alert-\($0)" })
        try await h.finish()
    }
}

@Suite struct SpoolRaceTests {
    /// The worker finds the spool empty while a publisher spools a batch behind it (actor
    /// reentrancy): that batch must still be delivered. It once stayed on disk, unseen until the
    /// next start, and fault-injection kill-9 counted its events lost.
    @Test func aBatchSpooledWhileTheWorkerFindsTheSpoolEmptyIsDelivered() async throws {
        let h = try await SpooledPipeline(queueCapacity: 10)
        defer { h.dir.remove() }
        let (spool, sink, pipeline) = (h.spool, h.sink, h.pipeline)
        await sink.pause()
        for n in stride(from: 0, to: 40, by: 10) { _ = try await pipeline.publish(SampleEvents.alerts(n..<n + 10)) }
        // The first time the worker finds the spool empty, a publisher spools ten more events
        // before the worker hears the answer.
        let late = Mutex<DeliveryReceipt?>(nil)
        await spool.onFoundEmpty {
            guard late.withLock({ $0 == nil }) else { return }
            let receipt = try? await pipeline.publish(SampleEvents.alerts(40..<50))
            late.withLock { $0 = receipt }
        }
        await sink.resume()
        for _ in 0..<300 where await sink.events.count < 50 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(late.withLock { $0 } != nil, "the publisher spooled while the worker read the spool")
        #expect(await sink.events.map { $0.alert!.id } == (0..<50).map { "alert-\($0)" })
        try await h.finish()
    }

    /// A backfill filled the queue and the spool behind it; a poll's new alerts still go to the
    /// sink next, not behind the spool.
    @Test func regularEventsGoAheadOfABulkBacklogInTheSpool() async throws {
        let h = try await SpooledPipeline(queueCapacity: 20)
        defer { h.dir.remove() }
        let (sink, pipeline) = (h.sink, h.pipeline)
        await sink.pause()
        for n in stride(from: 0, to: 300, by: 10) {
            _ = try await pipeline.publish(SampleEvents.alerts(n..<n + 10), lane: .bulk)
        }
        let poll = try await pipeline.publish(SampleEvents.alerts(1000..<1005), lane: .regular)
        let stats = await pipeline.statistics()[0]
        #expect(stats.spooled == 280, "the poll's events were queued, not spooled: \(stats)")
        await sink.resume()
        #expect(await poll.delivered().isComplete)
        for _ in 0..<400 where await sink.events.count < 305 { try await Task.sleep(for: .milliseconds(10)) }
        let order = await sink.events.map { $0.alert!.id }
        // The batch the paused sink held, then the poll, then the rest of the backfill in order.
        let expected = (0..<10).map { "alert-\($0)" } + (1000..<1005).map { "alert-\($0)" }
        #expect(Array(order.prefix(15)) == expected)
        #expect(Array(order.dropFirst(15)) == (10..<300).map { "alert-\($0)" })
        try await h.finish()
    }

    /// The sink is down: a poll's events are spooled and acknowledged like any others, not held
    /// in the queue until the sink returns (sources keep collecting through an outage).
    @Test func duringAnOutageRegularEventsAreSpooledAndAcknowledged() async throws {
        let h = try await SpooledPipeline(
            queueCapacity: 20, retry: RetryPolicy(initialDelay: .seconds(0.01), maxDelay: .seconds(0.02)))
        defer { h.dir.remove() }
        let (sink, pipeline) = (h.sink, h.pipeline)
        await sink.failNext(Int.max / 2, .retryable)
        for n in stride(from: 0, to: 100, by: 10) {
            let receipt = try await pipeline.publish(SampleEvents.alerts(n..<n + 10), lane: .regular)
            // Bounded: a receipt held for the whole outage would never complete here.
            for _ in 0..<500 where receipt.currentReport == nil { try await Task.sleep(for: .milliseconds(10)) }
            #expect(receipt.currentReport?.isComplete == true, "publication \(n / 10) acknowledged during the outage")
        }
        await sink.recover()
        for _ in 0..<400 where Set(await sink.events.map { $0.alert!.id }).count < 100 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await sink.events.map { $0.alert!.id } == (0..<100).map { "alert-\($0)" }, "in order once back")
        try await h.finish()
    }

    /// A slow sink with a backfill in its spool and polls arriving all the time: the spool still
    /// drains, in order, and every poll arrives in order.
    @Test func steadyPollsNeitherStarveTheSpoolNorLoseTheirOrder() async throws {
        let h = try await SpooledPipeline(queueCapacity: 20, maxDelay: .seconds(0.005))
        defer { h.dir.remove() }
        let (sink, pipeline) = (h.sink, h.pipeline)
        await sink.setDelay(.milliseconds(5))
        for n in stride(from: 0, to: 400, by: 10) {
            _ = try await pipeline.publish(SampleEvents.alerts(n..<n + 10), lane: .bulk)
        }
        let polls = Task {
            for n in 10_000..<10_200 {
                _ = try await pipeline.publish(SampleEvents.alerts(n..<n + 1), lane: .regular)
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        try await polls.value
        for _ in 0..<1000 where await sink.events.count < 600 { try await Task.sleep(for: .milliseconds(10)) }
        let ids = await sink.events.compactMap { $0.alert.flatMap { Int($0.id.dropFirst(6)) } }
        #expect(ids.filter { $0 < 10_000 } == Array(0..<400), "the backfill in order")
        #expect(ids.filter { $0 >= 10_000 } == Array(10_000..<10_200), "the polls in order")
        let lastBulk = try #require(ids.lastIndex { $0 < 10_000 })
        let lastPoll = try #require(ids.lastIndex { $0 >= 10_000 })
        #expect(lastBulk < lastPoll + 60, "the spool drained while polls kept coming")
        try await h.finish()
    }
}

/// A running pipeline with one in-memory sink `s` (batches of 10) and a spool in a temporary
/// directory, for the tests of the spool and the lanes.
struct SpooledPipeline {
    let dir = TemporaryDirectory()
    let spool: Spool
    let sink = InMemorySink()
    let pipeline: EventPipeline
    let running: Task<Void, any Error>

    init(queueCapacity: Int, maxDelay: ConfigDuration = .seconds(0.01), retry: RetryPolicy? = nil) async throws {
        spool = Spool(directory: dir.file("spool"), maxBytes: 64 << 20)
        try await spool.open()
        pipeline = EventPipeline(
            sinks: [
                .init(
                    name: "s", sink: sink, batch: BatchPolicy(maxEvents: 10, maxDelay: maxDelay), retry: retry,
                    queueCapacity: queueCapacity, spool: spool)
            ], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let pipeline = pipeline
        running = Task { try await pipeline.run() }
    }

    /// Shuts the pipeline down and waits until it has drained and closed.
    func finish() async throws {
        await pipeline.shutdown()
        try await running.value
    }
}
