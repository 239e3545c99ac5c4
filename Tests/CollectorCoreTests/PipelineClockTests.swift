import CollectorTesting
import Logging
import Testing

@testable import CollectorCore

/// The pipeline's waits follow the clock it is given: minutes of backoff and batching delay pass
/// when the test moves a manual clock, not in real time.
@Suite struct PipelineClockTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Moves the clock in steps until `done` holds (at most `limit` steps).
    func advance(_ clock: ManualClock, by step: Duration, limit: Int = 200, until done: () async -> Bool) async -> Int {
        for n in 0..<limit {
            if await done() { return n }
            clock.advance(by: step)
            for _ in 0..<20 { await Task.yield() }
        }
        return limit
    }

    @Test func retryBackoffWaitsForTheClock() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        await sink.failNext(2, .retryable)
        let retry = RetryPolicy(initialDelay: .seconds(600), maxDelay: .seconds(600))
        let slot = EventPipeline.SinkSlot(name: "s", sink: sink, batch: BatchPolicy(maxEvents: 1), retry: retry)
        let pipeline = EventPipeline(sinks: [slot], drainTimeout: .seconds(5), clock: clock, logger: logger)
        let running = Task { try await pipeline.run() }
        let receipt = try await pipeline.publish(SampleEvents.alerts(0..<1))
        while await sink.writeAttempts < 1 { await Task.yield() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(receipt.currentReport == nil, "a failed write waits for its backoff on the clock")
        #expect(await sink.writeAttempts == 1)
        let steps = await advance(clock, by: .seconds(60)) { receipt.currentReport != nil }
        #expect(receipt.currentReport?.acceptedBy == ["s"])
        #expect(await sink.writeAttempts == 3)
        #expect(steps <= 21, "two backoffs of at most 600 s each: \(steps) minutes")
        await pipeline.shutdown()
        try await running.value
    }

    @Test func aPartialBatchWaitsForMaxDelayOnTheClock() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let batch = BatchPolicy(maxEvents: 100, maxDelay: .seconds(3600))
        let slot = EventPipeline.SinkSlot(name: "s", sink: sink, batch: batch)
        let pipeline = EventPipeline(sinks: [slot], drainTimeout: .seconds(5), clock: clock, logger: logger)
        let running = Task { try await pipeline.run() }
        let receipt = try await pipeline.publish(SampleEvents.alerts(0..<3))
        try await Task.sleep(for: .milliseconds(50))
        #expect(await sink.batches.isEmpty, "three of 100 events wait for max_delay")
        clock.advance(by: .seconds(1800))
        try await Task.sleep(for: .milliseconds(20))
        #expect(await sink.batches.isEmpty, "half of max_delay is not enough")
        _ = await advance(clock, by: .seconds(1800)) { receipt.currentReport != nil }
        #expect(await sink.batches.map(\.count) == [3])
        await pipeline.shutdown()
        try await running.value
    }
}
