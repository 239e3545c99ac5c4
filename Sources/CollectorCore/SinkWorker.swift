import Logging

/// Counters for one sink, as reported by ``EventPipeline/statistics()``.
public struct SinkStatistics: Sendable, Hashable {
    public var name: String
    public var required: Bool
    /// Events waiting in the sink's queue (including the batch being written).
    public var queued = 0
    /// Events the sink accepted.
    public var accepted = 0
    /// Events the sink rejected permanently.
    public var rejected = 0
    /// Events left undelivered when the pipeline stopped.
    public var undelivered = 0
    /// Write attempts that failed with a retryable error.
    public var retries = 0
    /// Batches written.
    public var batches = 0
    /// Events dropped because the queue was full (`when_full: drop_newest`).
    public var dropped = 0
    /// Rejected events kept in the dead-letter store.
    public var deadLettered = 0
    /// Events written to the durable spool (acknowledged to sources, delivered later).
    public var spooled = 0
    /// Events delivered from the spool.
    public var unspooled = 0
    public var lastError: String?
}

/// One sink's queue and the loop that feeds it: batching, retries, flushes, close.
actor SinkWorker {
    struct Settings: Sendable {
        var name: String
        var required: Bool
        var batch: BatchPolicy
        var retry: RetryPolicy
        var queueCapacity: Int
        var queueMaxBytes: Int = .max
        var flushInterval: Duration
        var drainTimeout: Duration
        var whenFull: OverflowPolicy = .block
        var deadLetters: DeadLetterStore?
        var spool: Spool?
    }

    private final class Item {
        /// Released as soon as every event is delivered, so finished items hold no memory.
        var events: [Event]
        var bytes: [Int]
        let count: Int
        let totalBytes: Int
        let receipt: ReceiptState
        var taken = 0
        var delivered = 0
        /// The worst outcome of the batches this item's events went out in.
        var rejection: String?
        var undelivered = false
        init(events: [Event], bytes: [Int], receipt: ReceiptState) {
            self.events = events
            self.bytes = bytes
            self.totalBytes = bytes.reduce(0, +)
            self.count = events.count
            self.receipt = receipt
        }
    }

    let settings: Settings
    let sink: any Sink
    let logger: Logger
    private var items: [Item] = []
    private var firstItem = 0
    private var takeItem = 0
    private var queuedEvents = 0
    /// The approximate JSON size of the queued events (``Event/approximateByteCount``).
    private var queuedBytes = 0
    private var untakenEvents = 0
    private var closing = false
    private var drainDeadline: ContinuousClock.Instant?
    private var signal: CheckedContinuation<Void, Never>?
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var stats: SinkStatistics
    private var lastFlush = ContinuousClock.now
    private var unflushedWrites = false
    private var lastDropLog = ContinuousClock.now - .seconds(60)
    /// The spool holds batches not yet delivered: new events go behind them, to keep order.
    private var spoolPending = false
    private var lastSpoolLog = ContinuousClock.now - .seconds(60)

    init(settings: Settings, sink: any Sink, logger: Logger) {
        self.settings = settings
        self.sink = sink
        self.logger = logger
        self.stats = SinkStatistics(name: settings.name, required: settings.required)
    }

    var statistics: SinkStatistics {
        var s = stats
        s.queued = queuedEvents
        return s
    }

    /// Whether `count` more events of `bytes` would overfill the queue (by events or by size; an
    /// empty queue takes anything, so one huge batch cannot wait forever).
    private func isFull(adding count: Int, bytes: Int) -> Bool {
        queuedEvents > 0 && (queuedEvents + count > settings.queueCapacity || queuedBytes + bytes > settings.queueMaxBytes)
    }

    /// Queues events, waiting while the queue is full. Throws when the pipeline is closing.
    func enqueue(_ events: [Event], receipt: ReceiptState) async throws(PipelineClosedError) {
        let sizes = events.map(\.approximateByteCount)
        let incoming = sizes.reduce(0, +)
        if settings.whenFull == .dropNewest && isFull(adding: events.count, bytes: incoming) && !closing {
            stats.dropped += events.count
            if ContinuousClock.now - lastDropLog > .seconds(10) {
                lastDropLog = .now
                logger.warning("best-effort sink is behind; dropping new events for it", metadata: [
                    "sink": "\(settings.name)", "dropped_total": "\(stats.dropped)", "queue_capacity": "\(settings.queueCapacity)"])
            }
            return
        }
        if let spool = settings.spool, !closing, spoolPending || isFull(adding: events.count, bytes: incoming) {
            // The queue is full (or the spool already holds older events): to disk, durably,
            // and acknowledged to the source now; delivered in order when the sink can take it.
            let wasPending = spoolPending
            spoolPending = true
            do {
                try await spool.append(events)
                stats.spooled += events.count
                receipt.accepted(by: settings.name)
                if ContinuousClock.now - lastSpoolLog > .seconds(10) {
                    lastSpoolLog = .now
                    logger.warning("sink is behind; spooling events to disk", metadata: [
                        "sink": "\(settings.name)", "spooled_total": "\(stats.spooled)", "spool": "\(spool.directory)"])
                }
                wake()
                return
            } catch {
                let stillPending = await spool.pendingBatches > 0
                spoolPending = wasPending || stillPending
                if ContinuousClock.now - lastSpoolLog > .seconds(10) {
                    lastSpoolLog = .now
                    logger.warning("the spool cannot take more; sources wait for the sink", metadata: [
                        "sink": "\(settings.name)", "error": "\(error)"])
                }
            }
        }
        while isFull(adding: events.count, bytes: incoming) && !closing {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
        if closing { throw PipelineClosedError() }
        items.append(Item(events: events, bytes: sizes, receipt: receipt))
        queuedEvents += events.count
        queuedBytes += incoming
        untakenEvents += events.count
        wake()
    }

    func beginClosing(drainTimeout: Duration) {
        guard !closing else { return }
        closing = true
        drainDeadline = .now + drainTimeout
        for w in spaceWaiters { w.resume() }
        spaceWaiters = []
        wake()
    }

    private func wake() {
        if let s = signal {
            signal = nil
            s.resume()
        }
    }

    /// Waits for new events, closing, or the deadline.
    private func waitForSignal(until deadline: ContinuousClock.Instant?) async {
        var timer: Task<Void, Never>?
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            signal = c
            if let deadline {
                timer = Task { [weak self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    await self?.wake()
                }
            }
        }
        timer?.cancel()
    }

    func run() async {
        if let spool = settings.spool { spoolPending = await spool.pendingBatches > 0 }
        while true {
            while untakenEvents == 0 && !closing && !spoolPending {
                await waitForFlushOrSignal()
            }
            if untakenEvents == 0 && closing {
                // Shutting down: keep emptying the spool while the sink takes it and the drain
                // deadline allows; what is left stays on disk for the next start.
                if spoolPending, let drainDeadline, ContinuousClock.now < drainDeadline, await deliverFromSpool() { continue }
                break
            }
            if untakenEvents == 0 && spoolPending {
                await deliverFromSpool()
                await flushIfDue(force: false)
                continue
            }
            // Gather until a limit is reached, the first event has waited long enough, or we close.
            let deadline = ContinuousClock.now + settings.batch.maxDelay.duration
            while untakenEvents < settings.batch.maxEvents && untakenBytesBelowLimit() && !closing
                && ContinuousClock.now < deadline
            {
                await waitForSignal(until: deadline)
            }
            let (batch, touched) = takeBatch()
            await deliver(batch, touched: touched)
            await flushIfDue(force: false)
        }
        await flushIfDue(force: true)
        do {
            try await sink.close()
        } catch {
            logger.error("sink close failed", metadata: ["sink": "\(settings.name)", "error": "\(error)"])
        }
        await settings.deadLetters?.close()
        await settings.spool?.close()
    }

    /// While idle, flush once the flush interval has passed since the last unflushed write.
    private func waitForFlushOrSignal() async {
        if unflushedWrites {
            let due = lastFlush + settings.flushInterval
            if ContinuousClock.now >= due {
                await flushIfDue(force: true)
            } else {
                await waitForSignal(until: due)
            }
        } else {
            await waitForSignal(until: nil)
        }
    }

    private func untakenBytesBelowLimit() -> Bool {
        var total = 0
        let limit = Int(settings.batch.maxBytes.bytes)
        var i = takeItem
        var first = true
        while i < items.count {
            let item = items[i]
            let start = first ? item.taken : 0
            first = false
            for b in item.bytes[start...] {
                total += b
                if total >= limit { return false }
            }
            i += 1
        }
        return true
    }

    private func takeBatch() -> ([Event], [(Item, Int)]) {
        var batch: [Event] = []
        var touched: [(Item, Int)] = []
        var bytes = 0
        let maxEvents = settings.batch.maxEvents
        let maxBytes = Int(settings.batch.maxBytes.bytes)
        while takeItem < items.count && batch.count < maxEvents {
            let item = items[takeItem]
            var n = 0
            while item.taken < item.count && batch.count < maxEvents {
                let size = item.bytes[item.taken]
                if !batch.isEmpty && bytes + size > maxBytes { break }
                batch.append(item.events[item.taken])
                bytes += size
                item.taken += 1
                n += 1
            }
            if n > 0 { touched.append((item, n)) }
            if item.taken == item.count {
                takeItem += 1
            } else {
                break
            }
            if !batch.isEmpty && bytes >= maxBytes { break }
        }
        untakenEvents -= batch.count
        return (batch, touched)
    }

    /// Moves every queued event to the spool, in order; a batch the spool refuses is delivered
    /// (with retries) instead.
    private func spillQueue(to spool: Spool) async {
        while true {
            let (batch, touched) = takeBatch()
            if batch.isEmpty { return }
            if (try? await spool.append(batch)) != nil {
                stats.spooled += batch.count
                settle(touched, .accepted)
            } else {
                await deliver(batch, touched: touched, allowSpill: false)
            }
        }
    }

    private func deliver(_ batch: [Event], touched: [(Item, Int)], allowSpill: Bool = true) async {
        guard !batch.isEmpty else { return }
        var attempt = 0
        while true {
            do {
                try await sink.write(batch)
                stats.accepted += batch.count
                stats.batches += 1
                unflushedWrites = true
                settle(touched, .accepted)
                return
            } catch let error as SinkError where !error.isRetryable {
                stats.rejected += batch.count
                stats.lastError = error.description
                if let store = settings.deadLetters {
                    do {
                        try await store.append(batch, sink: settings.name, reason: error.description)
                        stats.deadLettered += batch.count
                        logger.error(
                            "sink rejected a batch permanently; its events are in the dead-letter file",
                            metadata: ["sink": "\(settings.name)", "events": "\(batch.count)", "error": "\(error)", "dead_letters": "\(store.path)"])
                    } catch {
                        logger.critical(
                            "sink rejected a batch and the dead-letter file could not take it; the events are only in this log",
                            metadata: ["sink": "\(settings.name)", "events": "\(batch.count)", "error": "\(error)"])
                    }
                } else {
                    logger.error(
                        "sink rejected a batch permanently; its events are not retried",
                        metadata: ["sink": "\(settings.name)", "events": "\(batch.count)", "error": "\(error)"])
                }
                settle(touched, .rejected(error.description))
                return
            } catch {
                attempt += 1
                stats.retries += 1
                stats.lastError = "\(error)"
                // A sink that keeps failing: with a spool, this batch and everything queued
                // behind it go to disk (acknowledged), and retries continue from the spool, so
                // sources keep collecting while the destination is down.
                if allowSpill, attempt >= 2, let spool = settings.spool, (try? await spool.append(batch)) != nil {
                    stats.spooled += batch.count
                    spoolPending = true
                    settle(touched, .accepted)
                    logger.warning("sink is failing; spooling its queue to disk and retrying from there", metadata: [
                        "sink": "\(settings.name)", "error": "\(error)", "spool": "\(spool.directory)"])
                    await spillQueue(to: spool)
                    return
                }
                let delay = settings.retry.delay(forAttempt: attempt)
                if closing, let drainDeadline, ContinuousClock.now + delay > drainDeadline {
                    if let spool = settings.spool, (try? await spool.append(batch)) != nil {
                        stats.spooled += batch.count
                        logger.warning(
                            "sink still failing at the shutdown deadline; its events are kept in the spool for the next start",
                            metadata: ["sink": "\(settings.name)", "events": "\(batch.count)", "error": "\(error)"])
                        settle(touched, .accepted)
                        return
                    }
                    stats.undelivered += batch.count
                    logger.error(
                        "sink still failing at the shutdown deadline; events left undelivered (the source will collect them again)",
                        metadata: ["sink": "\(settings.name)", "events": "\(batch.count)", "error": "\(error)"])
                    settle(touched, .undelivered)
                    return
                }
                logger.warning(
                    "sink write failed; retrying",
                    metadata: [
                        "sink": "\(settings.name)", "attempt": "\(attempt)", "retry_in": "\(delay)",
                        "error": "\(error)",
                    ])
                // Not cancellable: after cancellation the drain deadline, not a busy loop, ends retries.
                await Task.detached { try? await Task.sleep(for: delay) }.value
            }
        }
    }

    /// Writes the oldest spooled batch, with the same retries; a rejected one goes to the dead
    /// letters. Returns without committing when shutdown begins (the batch stays on disk).
    @discardableResult
    private func deliverFromSpool() async -> Bool {
        guard let spool = settings.spool else { spoolPending = false; return false }
        let record: Spool.Record
        do {
            guard let next = try await spool.next() else {
                spoolPending = false
                return false
            }
            record = next
        } catch {
            logger.error("cannot read the spool; its events stay on disk", metadata: ["sink": "\(settings.name)", "error": "\(error)"])
            spoolPending = false
            return false
        }
        var attempt = 0
        var done = false
        // While shutting down, one attempt per batch: a failing sink does not hold the exit.
        while !done && !(closing && attempt > 0) {
            do {
                try await sink.write(record.events)
                stats.accepted += record.events.count
                stats.unspooled += record.events.count
                stats.batches += 1
                unflushedWrites = true
                done = true
            } catch let error as SinkError where !error.isRetryable {
                stats.rejected += record.events.count
                stats.lastError = error.description
                if let store = settings.deadLetters, (try? await store.append(record.events, sink: settings.name, reason: error.description)) != nil {
                    stats.deadLettered += record.events.count
                }
                logger.error("sink rejected a spooled batch permanently", metadata: ["sink": "\(settings.name)", "events": "\(record.events.count)", "error": "\(error)"])
                done = true
            } catch {
                attempt += 1
                stats.retries += 1
                stats.lastError = "\(error)"
                let delay = settings.retry.delay(forAttempt: attempt)
                logger.warning("sink write failed; retrying the spooled batch", metadata: [
                    "sink": "\(settings.name)", "attempt": "\(attempt)", "retry_in": "\(delay)", "error": "\(error)"])
                // Sleep in short steps so shutdown is not held up by a long backoff.
                let until = ContinuousClock.now + delay
                while !closing && ContinuousClock.now < until {
                    let step = min(until - ContinuousClock.now, .milliseconds(200))
                    await Task.detached { try? await Task.sleep(for: step) }.value
                }
            }
        }
        guard done else { return false }  // shutting down: the batch stays in the spool
        do { try await spool.commit(record) } catch {
            logger.error("cannot move the spool's read position; the batch may be sent again", metadata: ["sink": "\(settings.name)", "error": "\(error)"])
        }
        return true
    }

    enum Outcome {
        case accepted
        case rejected(String)
        case undelivered
    }

    /// Counts delivered events per item and completes the receipt of each finished item with
    /// the worst outcome any of its batches had (a split item is accepted only if all of it was).
    private func settle(_ touched: [(Item, Int)], _ outcome: Outcome) {
        var freed = 0
        for (item, n) in touched {
            item.delivered += n
            freed += n
            switch outcome {
            case .accepted: break
            case .rejected(let reason): item.rejection = item.rejection ?? reason
            case .undelivered: item.undelivered = true
            }
            if item.delivered == item.count {
                item.events = []
                item.bytes = []
                queuedBytes -= item.totalBytes
                if item.undelivered {
                    item.receipt.undelivered(by: settings.name)
                } else if let reason = item.rejection {
                    item.receipt.rejected(by: settings.name, reason: reason)
                } else {
                    item.receipt.accepted(by: settings.name)
                }
            }
        }
        queuedEvents -= freed
        while firstItem < items.count && items[firstItem].delivered == items[firstItem].count {
            firstItem += 1
        }
        if firstItem > 64 && firstItem * 2 > items.count {
            items.removeFirst(firstItem)
            takeItem -= firstItem
            firstItem = 0
        }
        let waiters = spaceWaiters
        spaceWaiters = []
        for w in waiters { w.resume() }
    }

    private func flushIfDue(force: Bool) async {
        guard unflushedWrites else { return }
        guard force || ContinuousClock.now >= lastFlush + settings.flushInterval else { return }
        do {
            try await sink.flush()
            unflushedWrites = false
        } catch {
            stats.lastError = "\(error)"
            logger.warning("sink flush failed", metadata: ["sink": "\(settings.name)", "error": "\(error)"])
        }
        lastFlush = .now
    }
}

/// The pipeline is shutting down and takes no more events.
public struct PipelineClosedError: Error, Sendable, CustomStringConvertible {
    public var description: String { "the event pipeline is shutting down and accepts no more events" }
}
