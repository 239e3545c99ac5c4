import Logging

/// What ``EventPipeline`` needs of a sink's worker, whatever clock the worker runs on.
protocol SinkFeeding: Actor {
    func enqueue(_ events: [Event], receipt: ReceiptState, lane: PublishLane) async throws(PipelineClosedError)
    /// Returns once the queue could take `count` publications of `events` of `bytes` (fewer in a
    /// small queue), or at once when it never makes publications wait or is closing.
    func waitForRoom(publications count: Int, events: Int, bytes: Int, lane: PublishLane) async
    /// Stops taking events, drains the queue (and, unless `forReload`, the spool) within the
    /// drain timeout, then closes. A reload leaves the spool to the sink's successor.
    func beginClosing(forReload: Bool)
    func requestReopen()
    func run() async
    /// Returns once ``run()`` has closed the sink.
    func waitUntilFinished() async
    var statistics: SinkStatistics { get async }
}

/// One sink's worker: it feeds the sink from its ``SinkQueue`` in batches (by events, bytes and
/// time), retries and dead-letters through one delivery policy (``write(_:origin:)``), spools to
/// disk when the sink falls behind, flushes when idle, and closes the sink at the end.
///
/// Time comes from the injected clock, so tests drive batching and retry delays without sleeping.
actor SinkWorker<C: Clock>: SinkFeeding where C.Duration == Duration {
    let name: String
    let settings: SinkDeliverySettings
    let sink: any Sink
    let deadLetters: DeadLetterStore?
    let spool: Spool?
    let drainTimeout: Duration
    let clock: C
    let logger: Logger

    var queue: SinkQueue
    var stats: SinkStatistics
    var closing = false
    var drainDeadline: C.Instant?
    /// Closing for a reload: the spool stays for the successor, which reopens it.
    private var leavingForReload = false
    /// The spool holds batches not yet delivered: new events go behind them, to keep order.
    var spoolPending = false
    /// Appends to the spool begun by publishers, so a read that found the spool empty knows
    /// whether one may have landed behind it.
    var spoolAppendsBegun = 0
    /// The spool may hold regular events: new regular ones then go behind them, to keep their order.
    var spoolHoldsRegular = false
    /// The last batch came from the queue while the spool held events: the spool's turn next.
    private var queueHadTheLastTurn = false
    var unflushedWrites = false
    private var reopenRequested = false
    private var lastFlush: C.Instant
    private var signal: CheckedContinuation<Void, Never>?
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var lastWarning: [String: C.Instant] = [:]
    private var finished = false
    private var finishWaiters: [CheckedContinuation<Void, Never>] = []

    init(slot: EventPipeline.SinkSlot, drainTimeout: Duration, clock: C, logger: Logger) {
        name = slot.name
        var settings = slot.settings
        if settings.required { settings.whenFull = .block }
        self.settings = settings
        sink = slot.sink
        deadLetters = slot.deadLetters
        spool = slot.spool
        self.drainTimeout = drainTimeout
        self.clock = clock
        self.logger = logger
        queue = SinkQueue(capacity: settings.queueCapacity, maxBytes: Int(clamping: settings.queueMaxSize.bytes))
        stats = SinkStatistics(name: slot.name, required: settings.required)
        lastFlush = clock.now
    }

    var statistics: SinkStatistics {
        get async {
            var s = stats
            s.queued = queue.queuedEvents
            s.queuedBytes = queue.queuedBytes
            if let spool { s.spoolBytes = await spool.pendingBytes }
            return s
        }
    }

    /// Queues events, waiting while the queue is full. Throws when the pipeline is closing.
    ///
    /// With a spool, events go behind the spooled ones (or to the spool when the queue is full);
    /// a regular publication that finds room in its lane goes ahead of them (see ``PublishLane``).
    func enqueue(_ events: [Event], receipt: ReceiptState, lane: PublishLane) async throws(PipelineClosedError) {
        let sizes = events.map(\.approximateByteCount)
        let incoming = sizes.reduce(0, +)
        let full = queue.isFull(adding: events.count, bytes: incoming, lane: lane)
        if settings.whenFull == .dropNewest && full && !closing {
            stats.dropped += events.count
            warnOccasionally(
                "best-effort sink is behind; dropping new events for it",
                ["dropped_total": "\(stats.dropped)", "queue_capacity": "\(settings.queueCapacity)"])
            return
        }
        // A poll's events go ahead of spooled backfill events, while the sink is taking events
        // (an outage spools everything, acknowledged) and no regular events wait in the spool.
        let aheadOfSpool = lane == .regular && !full && !spoolHoldsRegular && stats.failingSince == nil
        if let spool, !closing, !aheadOfSpool, spoolPending || full,
            await spoolAhead(events, to: spool, lane: lane)
        {
            receipt.accepted(by: name)
            wake()
            return
        }
        while queue.isFull(adding: events.count, bytes: incoming, lane: lane) && !closing {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
        if closing { throw PipelineClosedError() }
        queue.append(events, sizes: sizes, receipt: receipt, lane: lane)
        wake()
    }

    /// Waits while the queue could not take `count` publications of `events` of `bytes` at once,
    /// as ``enqueue`` would; not with a spool (a full queue spools) or when full means dropping.
    /// A queue too small for `count` and one more is asked for fewer, at least one: asking for
    /// all would wait until it is empty, which a trickle of other publications may never let it
    /// be, and the last events of a page may wait `batch.max_delay` for company first.
    func waitForRoom(publications count: Int, events: Int, bytes: Int, lane: PublishLane) async {
        guard spool == nil, settings.whenFull == .block else { return }
        let fitting = min(queue.capacity / max(1, events), queue.maxBytes / max(1, bytes)) - 1
        let wanted = max(1, min(count, fitting))
        while queue.isFull(adding: events * wanted, bytes: bytes * wanted, lane: lane) && !closing {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
    }

    func beginClosing(forReload: Bool) {
        guard !closing else { return }
        closing = true
        leavingForReload = forReload
        drainDeadline = clock.now.advanced(by: drainTimeout)
        releaseSpaceWaiters()
        wake()
    }

    /// Asks the loop to flush and reopen the sink's files between two writes.
    func requestReopen() {
        reopenRequested = true
        wake()
    }

    func run() async {
        if let spool {
            // What an earlier run left may include regular events; publishers may already have
            // spooled before this loop started, and their own appends say what they hold.
            let leftByEarlierRun = spoolAppendsBegun == 0
            let pending = await spool.pendingBatches > 0
            spoolPending = spoolPending || pending
            if pending && leftByEarlierRun { spoolHoldsRegular = true }
        }
        while await runOnce() {}
        await flushIfDue(force: true)
        do {
            try await sink.close()
        } catch {
            logger.error("sink close failed", metadata: ["sink": "\(name)", "error": "\(error)"])
        }
        await deadLetters?.close()
        await spool?.close()
        finished = true
        for waiter in finishWaiters { waiter.resume() }
        finishWaiters = []
    }

    func waitUntilFinished() async {
        if finished { return }
        await withCheckedContinuation { finishWaiters.append($0) }
    }

    /// One step of the loop: wait for work, then deliver a batch from the spool or the queue.
    /// False when the worker is done.
    private func runOnce() async -> Bool {
        while queue.untakenEvents == 0 && !closing && !spoolPending && !reopenRequested {
            await waitForFlushOrSignal()
        }
        if reopenRequested {
            await reopen()
            return true
        }
        if queue.untakenEvents == 0 && closing {
            // Shutting down: keep emptying the spool while the sink takes it and the drain
            // deadline allows; what is left stays on disk for the next start.
            guard spoolPending, !leavingForReload else { return false }
            guard let drainDeadline, clock.now < drainDeadline else {
                await warnSpoolLeftAtDeadline()
                return false
            }
            return await deliverFromSpool()
        }
        if spoolPending && spoolsTurn {
            queueHadTheLastTurn = false
            await deliverFromSpool()
        } else {
            queueHadTheLastTurn = spoolPending
            await gatherBatch()
            let batch = takeBatch()
            await deliver(batch)
        }
        await flushIfDue(force: false)
        return true
    }

    /// With events in the spool, whether the next batch comes from it rather than the queue.
    /// Queued bulk events are older than the spooled ones and go first; queued regular events
    /// (newer than any regular event spooled) take turns with the spool, so a steady stream of
    /// polls neither waits behind the spool nor keeps it from draining.
    private var spoolsTurn: Bool {
        if queue.untakenEvents == 0 { return true }
        return queueHadTheLastTurn && queue.untakenBulkEvents == 0 && !spoolHoldsRegular
    }

    private func reopen() async {
        reopenRequested = false
        await flushIfDue(force: true)
        do {
            try await sink.reopen()
        } catch {
            stats.lastError = "\(error)"
            logger.error("sink could not reopen its files", metadata: ["sink": "\(name)", "error": "\(error)"])
        }
    }

    var batchMaxBytes: Int { Int(clamping: settings.batch.maxBytes.bytes) }

    /// The next batch in publication order, within the batch limits.
    func takeBatch() -> SinkQueue.Batch {
        queue.takeBatch(maxEvents: settings.batch.maxEvents, maxBytes: batchMaxBytes)
    }

    /// Waits until a batch limit is reached, the first event has waited long enough, or closing.
    private func gatherBatch() async {
        let deadline = clock.now.advanced(by: settings.batch.maxDelay.duration)
        let maxBytes = batchMaxBytes
        while queue.untakenEvents < settings.batch.maxEvents && !queue.untakenBytesReach(maxBytes)
            && !closing && clock.now < deadline
        {
            await waitForSignal(until: deadline)
        }
    }

    func wake() {
        if let s = signal {
            signal = nil
            s.resume()
        }
    }

    func releaseSpaceWaiters() {
        let waiters = spaceWaiters
        spaceWaiters = []
        for w in waiters { w.resume() }
    }

    /// Waits for new events, closing, or the deadline.
    private func waitForSignal(until deadline: C.Instant?) async {
        var timer: Task<Void, Never>?
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            signal = c
            if let deadline {
                timer = Task { [weak self, clock] in
                    try? await clock.sleep(until: deadline, tolerance: nil)
                    await self?.wake()
                }
            }
        }
        timer?.cancel()
    }

    /// While idle, flush once the flush interval has passed since the last unflushed write.
    private func waitForFlushOrSignal() async {
        guard unflushedWrites else { return await waitForSignal(until: nil) }
        let due = lastFlush.advanced(by: settings.flushInterval.duration)
        if clock.now >= due {
            await flushIfDue(force: true)
        } else {
            await waitForSignal(until: due)
        }
    }

    private func flushIfDue(force: Bool) async {
        guard unflushedWrites else { return }
        guard force || clock.now >= lastFlush.advanced(by: settings.flushInterval.duration) else { return }
        do {
            try await sink.flush()
            unflushedWrites = false
        } catch {
            stats.lastError = "\(error)"
            logger.warning("sink flush failed", metadata: ["sink": "\(name)", "error": "\(error)"])
        }
        lastFlush = clock.now
    }

    /// Logs a warning at most every 10 seconds per message, so a sink that stays behind does not
    /// flood the log.
    func warnOccasionally(_ message: String, _ metadata: [String: String]) {
        let now = clock.now
        if let last = lastWarning[message], last.duration(to: now) < .seconds(10) { return }
        lastWarning[message] = now
        var fields: Logger.Metadata = ["sink": "\(name)"]
        for (key, value) in metadata { fields[key] = "\(value)" }
        logger.warning("\(message)", metadata: fields)
    }
}
