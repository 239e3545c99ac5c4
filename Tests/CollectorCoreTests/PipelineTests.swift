import CollectorCore
import CollectorSystem
import CollectorTesting
import Logging
import Synchronization
import Testing

@Suite struct PipelineTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func runPipeline(
        _ slots: [EventPipeline.SinkSlot], drain: Duration = .seconds(5),
        _ body: (EventPipeline) async throws -> Void
    ) async throws {
        let pipeline = EventPipeline(sinks: slots, drainTimeout: drain, logger: logger)
        let task = Task { try await pipeline.run() }
        try await body(pipeline)
        await pipeline.shutdown()
        try await task.value
    }

    @Test func fansOutInOrderAndBatchesByCount() async throws {
        let a = InMemorySink()
        let b = InMemorySink()
        let batch = BatchPolicy(maxEvents: 10, maxBytes: .mebibytes(10), maxDelay: .seconds(0.05))
        try await runPipeline([.init(name: "a", sink: a, batch: batch), .init(name: "b", sink: b, batch: batch)]) { p in
            let r1 = try await p.publish(SampleEvents.alerts(0..<25))
            let r2 = try await p.publish(SampleEvents.alerts(25..<30))
            let report = await r2.delivered()
            #expect(report.isComplete && report.acceptedBy == ["a", "b"])
            #expect(await r1.delivered().acceptedBy == ["a", "b"])
        }
        let ids = await a.events.compactMap { $0.alert?.id }
        #expect(ids == (0..<30).map { "alert-\($0)" })
        #expect(await b.events.count == 30)
        #expect(await a.batches.allSatisfy { $0.count <= 10 })
        let closedA = await a.closed
        let closedB = await b.closed
        #expect(closedA && closedB)
    }

    @Test func batchesByBytes() async throws {
        let sink = InMemorySink()
        let one = SampleEvents.alert(0).approximateByteCount
        let batch = BatchPolicy(maxEvents: 1000, maxBytes: ByteSize(bytes: Int64(one * 3)), maxDelay: .seconds(0.05))
        try await runPipeline([.init(name: "s", sink: sink, batch: batch)]) { p in
            _ = try await p.publish(SampleEvents.alerts(0..<10)).delivered()
        }
        #expect(await sink.batches.allSatisfy { $0.count <= 3 })
        #expect(await sink.events.count == 10)
    }

    @Test func retriesRetryableFailuresAndOnlyThenAcknowledges() async throws {
        let sink = InMemorySink()
        await sink.failNext(3, .retryable)
        let retry = RetryPolicy(initialDelay: .seconds(0.01), maxDelay: .seconds(0.02))
        try await runPipeline([.init(name: "s", sink: sink, retry: retry)]) { p in
            let receipt = try await p.publish(SampleEvents.alerts(0..<5))
            #expect(receipt.currentReport == nil)
            let report = await receipt.delivered()
            #expect(report.isComplete && report.acceptedBy == ["s"])
            let stats = await p.statistics()
            #expect(stats[0].retries == 3 && stats[0].accepted == 5)
        }
        #expect(await sink.writeAttempts == 4)
        #expect(await sink.events.count == 5)
    }

    @Test func permanentRejectionIsReportedAndDoesNotStall() async throws {
        let sink = InMemorySink()
        await sink.failNext(1, .permanent)
        try await runPipeline([.init(name: "s", sink: sink, batch: BatchPolicy(maxEvents: 5, maxDelay: .seconds(0.01)))]
        ) { p in
            let first = try await p.publish(SampleEvents.alerts(0..<5)).delivered()
            #expect(first.rejectedBy["s"] != nil && first.isComplete)
            let second = try await p.publish(SampleEvents.alerts(5..<10)).delivered()
            #expect(second.acceptedBy == ["s"])
        }
        #expect(await sink.events.compactMap { $0.alert?.id } == (5..<10).map { "alert-\($0)" })
    }

    @Test func aSplitBatchIsAcceptedOnlyIfEveryPartWas() async throws {
        let sink = InMemorySink()
        await sink.failNext(1, .permanent)
        try await runPipeline([.init(name: "s", sink: sink, batch: BatchPolicy(maxEvents: 5, maxDelay: .seconds(0.01)))]
        ) { p in
            // Ten events go out as two batches; the first is rejected, the second accepted.
            let report = try await p.publish(SampleEvents.alerts(0..<10)).delivered()
            #expect(report.rejectedBy["s"] != nil && report.acceptedBy.isEmpty)
        }
        #expect(await sink.events.count == 5)
    }

    @Test func receiptsWaitForRequiredSinksOnly() async throws {
        let fast = InMemorySink()
        let slow = InMemorySink()
        let optional = InMemorySink()
        await slow.pause()
        await optional.failNext(1000, .retryable)
        let quick = BatchPolicy(maxEvents: 100, maxDelay: .seconds(0.01))
        try await runPipeline(
            [
                .init(name: "fast", sink: fast, batch: quick), .init(name: "slow", sink: slow, batch: quick),
                .init(
                    name: "optional", sink: optional, required: false, batch: quick,
                    retry: RetryPolicy(initialDelay: .seconds(0.01), maxDelay: .seconds(0.01))),
            ],
            drain: .milliseconds(100)
        ) { p in
            let receipt = try await p.publish(SampleEvents.alerts(0..<3))
            for _ in 0..<500 where await fast.events.count < 3 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(await fast.events.count == 3)
            #expect(receipt.currentReport == nil, "the paused required sink has not accepted yet")
            await slow.resume()
            let report = await receipt.delivered()
            #expect(report.acceptedBy == ["fast", "slow"])
        }
        #expect(await optional.events.isEmpty)
    }

    @Test func backpressureMakesPublishersWait() async throws {
        let sink = InMemorySink()
        await sink.setDelay(.milliseconds(50))
        try await runPipeline([
            .init(name: "s", sink: sink, batch: BatchPolicy(maxEvents: 10, maxDelay: .seconds(0.01)), queueCapacity: 10)
        ]) { p in
            let clock = ContinuousClock()
            let start = clock.now
            for i in 0..<5 { _ = try await p.publish(SampleEvents.alerts((i * 10)..<(i * 10 + 10))) }
            // Five batches through a queue of ten behind a 50 ms sink: at least ~150 ms of waiting.
            #expect(clock.now - start >= .milliseconds(150))
        }
        #expect(await sink.events.count == 50)
    }

    @Test func aQueueFullByBytesMakesPublishersWaitToo() async throws {
        let sink = InMemorySink()
        await sink.setDelay(.milliseconds(50))
        let size = SampleEvents.alerts(0..<10).reduce(0) { $0 + $1.approximateByteCount }
        // Room for 10,000 events but only one publish of ten by size.
        try await runPipeline([
            .init(
                name: "s", sink: sink, batch: BatchPolicy(maxEvents: 10, maxDelay: .seconds(0.01)),
                queueCapacity: 10_000,
                queueMaxBytes: size)
        ]) { p in
            let clock = ContinuousClock()
            let start = clock.now
            for i in 0..<5 { _ = try await p.publish(SampleEvents.alerts((i * 10)..<(i * 10 + 10))) }
            #expect(clock.now - start >= .milliseconds(150))
        }
        #expect(await sink.events.count == 50)
    }

    /// A source asks for room before it fetches: full queues make it wait until they could take
    /// the events; a best-effort sink (drops when full) never does.
    @Test func waitingForRoomEndsWhenTheQueueCouldTakeTheEvents() async throws {
        let batch = BatchPolicy(maxEvents: 10, maxDelay: .seconds(0.01))
        for whenFull in [OverflowPolicy.block, .dropNewest] {
            let sink = InMemorySink()
            await sink.pause()
            // Only a sink that does not gate checkpoints may drop.
            let slot = EventPipeline.SinkSlot(
                name: "s", sink: sink, required: whenFull == .block, batch: batch, queueCapacity: 20, whenFull: whenFull
            )
            try await runPipeline([slot]) { p in
                // Ten in the stuck write and ten behind them: the queue (twenty) is full.
                _ = try await p.publish(SampleEvents.alerts(0..<10))
                while await sink.writeAttempts == 0 { try await Task.sleep(for: .milliseconds(1)) }
                // Five publications of ten can never fit in twenty; asking for them is asking for as
                // many as leave room for one more (one), not for an empty queue.
                await p.waitForRoom(publications: 5, events: 10, bytes: 0, lane: .bulk)
                _ = try await p.publish(SampleEvents.alerts(10..<20))
                let done = Mutex(false)
                let waiting = Task {
                    await p.waitForRoom(publications: 1, events: 10, bytes: 0, lane: .bulk)
                    done.withLock { $0 = true }
                }
                // Dropping: room at once. Waiting: none while the write is stuck.
                let deadline = ContinuousClock.now + .milliseconds(whenFull == .block ? 100 : 10_000)
                while !done.withLock({ $0 }), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(done.withLock { $0 } == (whenFull == .dropNewest), "\(whenFull)")
                await sink.resume()
                await waiting.value
            }
            #expect(await sink.events.count == 20)
        }
    }

    @Test func shutdownDrainsWhatIsQueued() async throws {
        let sink = InMemorySink()
        let pipeline = EventPipeline(
            sinks: [.init(name: "s", sink: sink, batch: BatchPolicy(maxEvents: 7, maxDelay: .seconds(10)))],
            logger: logger)
        let task = Task { try await pipeline.run() }
        let receipt = try await pipeline.publish(SampleEvents.alerts(0..<20))
        await pipeline.shutdown()
        try await task.value
        #expect(await receipt.delivered().isComplete)
        #expect(await sink.events.count == 20)
        #expect(await sink.flushCount >= 1)
        await #expect(throws: PipelineClosedError.self) { _ = try await pipeline.publish(SampleEvents.alerts(0..<1)) }
    }

    @Test func undeliverableEventsAtTheDeadlineAreReportedNotAcknowledged() async throws {
        let sink = InMemorySink()
        await sink.failNext(10_000, .retryable)
        let retry = RetryPolicy(initialDelay: .seconds(0.02), maxDelay: .seconds(0.05))
        var receipt: DeliveryReceipt?
        try await runPipeline([.init(name: "s", sink: sink, retry: retry)], drain: .milliseconds(200)) { p in
            receipt = try await p.publish(SampleEvents.alerts(0..<3))
        }
        let report = await receipt!.delivered()
        #expect(!report.isComplete && report.undeliveredBy == ["s"])
    }
}

@Suite struct PolicyTests {
    @Test func backoffGrowsToItsCapWithJitter() {
        let p = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(8), multiplier: 2)
        #expect(p.ceiling(forAttempt: 1) == 1)
        #expect(p.ceiling(forAttempt: 3) == 4)
        #expect(p.ceiling(forAttempt: 10) == 8)
        for attempt in 1...10 {
            let d = p.delay(forAttempt: attempt)
            #expect(d >= .zero && d <= .seconds(p.ceiling(forAttempt: attempt)))
        }
    }

    @Test func parsesDurationsAndSizes() {
        #expect(ConfigDuration(parsing: "1h30m")?.seconds == 5400)
        #expect(ConfigDuration(parsing: "500ms")?.seconds == 0.5)
        #expect(ConfigDuration(parsing: "7d")?.description == "7d")
        #expect(ConfigDuration(parsing: "soon") == nil)
        #expect(ByteSize(parsing: "100MiB")?.bytes == 104_857_600)
        #expect(ByteSize(parsing: "1MB")?.bytes == 1_000_000)
        #expect(ByteSize(parsing: "12 parsecs") == nil)
        #expect(Suggestion.nearest(to: "pth", in: ["path", "directory"]) == "path")
        #expect(Suggestion.nearest(to: "zzzzzz", in: ["path", "directory"]) == nil)
    }
}

@Suite struct RateLimiterTests {
    @Test func neverLetsMoreThanPerMinuteThroughInOneWindow() async throws {
        // 600 tokens at once and 10 more per second: a bucket alone would let the 601st request
        // through after 0.1 s; the window holds it until the first is 0.3 s old.
        let limiter = RateLimiter(perMinute: 600, burst: 600, window: .milliseconds(300))
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<600 { try await limiter.acquire() }
        #expect(clock.now - start < .milliseconds(300))
        try await limiter.acquire()
        #expect(clock.now - start >= .milliseconds(300))
    }

    /// The window counts a request from when it went out: requests reported 250 ms after their
    /// permits hold the next one back until they, not their permits, are a window old.
    @Test func countsARequestFromWhenItWentOut() async throws {
        let limiter = RateLimiter(perMinute: 600, burst: 600, window: .milliseconds(400))
        let clock = ContinuousClock()
        let start = clock.now
        var permits: [RateLimiter.Permit] = []
        for _ in 0..<600 { permits.append(try await limiter.acquire()) }
        try await Task.sleep(for: .milliseconds(250))
        for permit in permits { limiter.sent(permit) }
        try await limiter.acquire()
        #expect(clock.now - start >= .milliseconds(650))
    }

    @Test func aWindowOpensWhenItsEarliestRequestIsAWindowOld() {
        let t0 = ContinuousClock.now
        var window = RequestWindow(limit: 2, length: .seconds(10))
        window.record(1, at: t0)
        #expect(window.opens(at: t0) == nil)
        window.record(2, at: t0 + .seconds(1))
        #expect(window.opens(at: t0 + .seconds(2)) == t0 + .seconds(10))
        #expect(window.opens(at: t0 + .seconds(10)) == nil)
        // Request 1 went out 3 s after its permit: request 2 is now the earliest.
        window.sent(1, at: t0 + .seconds(3))
        #expect(window.opens(at: t0 + .seconds(4)) == t0 + .seconds(11))
        // A report never moves a request earlier.
        window.sent(1, at: t0 + .seconds(2))
        #expect(window.opens(at: t0 + .seconds(4)) == t0 + .seconds(11))
    }

    @Test func aReportedRequestMovesToTheEnd() {
        let t0 = ContinuousClock.now
        var window = RequestWindow(limit: 3, length: .seconds(10))
        for id in 1...4 { window.record(UInt64(id), at: t0 + .seconds(id)) }  // 1 gave way to 4
        window.sent(2, at: t0 + .seconds(5))  // now 3, 4, 2
        #expect(window.opens(at: t0 + .seconds(6)) == t0 + .seconds(13))
        window.record(5, at: t0 + .seconds(13))  // 3 gives way: 4, 2, 5
        #expect(window.opens(at: t0 + .seconds(13)) == t0 + .seconds(14))
        window.record(6, at: t0 + .seconds(14))  // 4 gives way: 2, 5, 6
        #expect(window.opens(at: t0 + .seconds(14)) == t0 + .seconds(15))
    }

    /// After a 429's Retry-After the requests held back resume at the rate, not in a burst of
    /// what the bucket would have gathered meanwhile.
    @Test func aPauseGathersNoBurst() async throws {
        let limiter = RateLimiter(perMinute: 600, burst: 5, window: .seconds(61))
        let clock = ContinuousClock()
        for _ in 0..<5 { try await limiter.acquire() }
        let start = clock.now
        limiter.pause(for: .milliseconds(300))
        try await limiter.acquire()
        try await limiter.acquire()
        #expect(clock.now - start >= .milliseconds(390))
    }

    /// A permit whose place newer permits took while its request waited still counts when it
    /// goes out, in the earliest one's place.
    @Test func aLongHeldPermitStillCountsWhenItGoesOut() {
        let t0 = ContinuousClock.now
        var window = RequestWindow(limit: 2, length: .seconds(10))
        window.record(1, at: t0)
        window.record(2, at: t0 + .seconds(1))
        window.record(3, at: t0 + .seconds(10))  // takes request 1's place
        window.sent(1, at: t0 + .seconds(12))  // request 1 leaves only now
        #expect(window.opens(at: t0 + .seconds(13)) == t0 + .seconds(20))
        #expect(window.count == 2)
    }
}
