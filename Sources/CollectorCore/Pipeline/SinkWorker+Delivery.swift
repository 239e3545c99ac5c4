import Logging

/// The one delivery policy, for batches fresh from the queue and batches read back from the spool
/// alike: write, retry retryable failures with the backoff of ``RetryPolicy``, keep permanent
/// rejections in the dead letters, and decide when to stop retrying.
extension SinkWorker {
    /// Where a batch comes from, which decides when retrying stops.
    enum Origin: Equatable {
        /// From the queue. With `spill`, a spool takes over a sink that keeps failing.
        case queue(spill: Bool)
        /// Read back from the spool: it stays there when retrying stops.
        case spool
    }

    /// What became of a batch.
    enum WriteResult: Equatable {
        case accepted
        case rejected(String)
        /// Retrying stopped and the batch went to the spool: after repeated failures, or at the
        /// drain deadline.
        case spooled(atDeadline: Bool)
        /// Retrying stopped at the drain deadline: the batch is undelivered (queue origin, no
        /// spool) or stays in the spool (spool origin).
        case gaveUp
    }

    /// Writes `events`, retrying until the sink accepts or rejects them or retrying stops.
    func write(_ events: [Event], origin: Origin) async -> WriteResult {
        var attempt = 0
        while true {
            do {
                try await sink.write(events)
                stats.accepted += events.count
                stats.batches += 1
                stats.failingSince = nil
                if origin == .spool { stats.unspooled += events.count }
                unflushedWrites = true
                return .accepted
            } catch let error as SinkError where !error.isRetryable {
                await reject(events, error, origin: origin)
                return .rejected(error.description)
            } catch {
                attempt += 1
                stats.retries += 1
                stats.lastError = "\(error)"
                if stats.failingSince == nil { stats.failingSince = .now() }
                let delay = settings.retry.delay(forAttempt: attempt)
                if let stop = await stopRetrying(events, origin: origin, attempt: attempt, delay: delay) {
                    return stop
                }
                logger.warning(
                    origin == .spool ? "sink write failed; retrying the spooled batch" : "sink write failed; retrying",
                    metadata: [
                        "sink": "\(name)", "attempt": "\(attempt)", "retry_in": "\(delay)", "error": "\(error)",
                    ])
                await pause(for: delay)
            }
        }
    }

    /// After a retryable failure: nil to retry, or what became of the batch.
    private func stopRetrying(_ events: [Event], origin: Origin, attempt: Int, delay: Duration) async -> WriteResult? {
        let pastDeadline = closing && drainDeadline.map { clock.now.advanced(by: delay) > $0 } ?? false
        switch origin {
        case .spool:
            // Shutting down: retried like a queued batch until the drain deadline, then it stays
            // on disk for the next start.
            return pastDeadline ? .gaveUp : nil
        case .queue(let spill):
            // A sink that keeps failing: with a spool, the batch goes to disk (acknowledged) and
            // retries continue from there, so sources keep collecting while the sink is down.
            if spill, attempt >= 2, let spool, (try? await spool.append(events)) != nil {
                return .spooled(atDeadline: false)
            }
            guard pastDeadline else { return nil }
            if let spool, (try? await spool.append(events)) != nil { return .spooled(atDeadline: true) }
            return .gaveUp
        }
    }

    /// Counts and keeps a permanently rejected batch; it is not retried.
    private func reject(_ events: [Event], _ error: SinkError, origin: Origin) async {
        stats.rejected += events.count
        stats.lastError = error.description
        stats.failingSince = nil  // the sink answered: this batch is settled, not failing
        let batch = origin == .spool ? "a spooled batch" : "a batch"
        var metadata: Logger.Metadata = ["sink": "\(name)", "events": "\(events.count)", "error": "\(error)"]
        guard let store = deadLetters else {
            return logger.error("sink rejected \(batch) permanently; its events are not retried", metadata: metadata)
        }
        do {
            try await store.append(events, sink: name, reason: error.description)
            stats.deadLettered += events.count
            metadata["dead_letters"] = "\(store.path)"
            logger.error(
                "sink rejected \(batch) permanently; its events are in the dead-letter file", metadata: metadata)
        } catch let storeError {
            metadata["dead_letter_error"] = "\(storeError)"
            logger.critical(
                "sink rejected \(batch) and the dead-letter file could not take it; the events are only in this log",
                metadata: metadata)
        }
    }

    /// Waits before a retry, in short steps that end early when shutdown begins, so a long
    /// backoff does not hold up the drain. Not cancellable: the drain deadline ends retries.
    private func pause(for delay: Duration) async {
        let until = clock.now.advanced(by: delay)
        let wasClosing = closing
        while clock.now < until && closing == wasClosing {
            let step = min(clock.now.duration(to: until), .milliseconds(200))
            await Task.detached { [clock] in try? await clock.sleep(for: step) }.value
        }
    }

    /// Delivers a batch from the queue and settles its publications' receipts.
    func deliver(_ batch: SinkQueue.Batch, spill: Bool = true) async {
        guard !batch.isEmpty else { return }
        switch await write(batch.events, origin: .queue(spill: spill)) {
        case .accepted:
            settle(batch, .accepted)
        case .rejected(let reason):
            settle(batch, .rejected(reason))
        case .spooled(atDeadline: false):
            stats.spooled += batch.count
            spoolPending = true
            spoolHoldsRegular = true
            settle(batch, .accepted)
            logger.warning(
                "sink is failing; spooling its queue to disk and retrying from there",
                metadata: [
                    "sink": "\(name)", "error": "\(stats.lastError ?? "")", "spool": "\(spool?.directory ?? "")",
                ])
            await spillQueue()
        case .spooled(atDeadline: true):
            stats.spooled += batch.count
            settle(batch, .accepted)
            logger.warning(
                "sink still failing at the shutdown deadline; its events are kept in the spool for the next start",
                metadata: ["sink": "\(name)", "events": "\(batch.count)", "error": "\(stats.lastError ?? "")"])
        case .gaveUp:
            stats.failingSince = nil
            stats.undelivered += batch.count
            settle(batch, .undelivered)
            logger.error(
                "sink still failing at the shutdown deadline; events left undelivered (the source will collect them again)",
                metadata: ["sink": "\(name)", "events": "\(batch.count)", "error": "\(stats.lastError ?? "")"])
        }
    }

    /// Completes the receipts of the publications `batch` finished, and frees queue space.
    func settle(_ batch: SinkQueue.Batch, _ outcome: SinkQueue.Outcome) {
        for completion in queue.settle(batch, outcome) {
            switch completion.outcome {
            case .accepted: completion.receipt.accepted(by: name)
            case .rejected(let reason): completion.receipt.rejected(by: name, reason: reason)
            case .undelivered: completion.receipt.undelivered(by: name)
            }
        }
        releaseSpaceWaiters()
    }
}
