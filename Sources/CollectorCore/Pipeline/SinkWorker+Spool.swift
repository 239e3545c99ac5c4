import Logging

/// The worker's durable spool: events go to disk when the queue is full (or the spool already
/// holds older ones, to keep order) or the sink keeps failing, and come back in order through the
/// same delivery policy as fresh batches.
extension SinkWorker {
    /// Appends new events behind the spooled ones (durably; they are then acknowledged to the
    /// source). False when the spool cannot take them: the publisher then waits for queue space.
    func spoolAhead(_ events: [Event], to spool: Spool, lane: PublishLane) async -> Bool {
        spoolPending = true
        spoolAppendsBegun &+= 1
        if lane == .regular { spoolHoldsRegular = true }
        do {
            try await spool.append(events)
            stats.spooled += events.count
            warnOccasionally(
                "sink is behind; spooling events to disk",
                ["spooled_total": "\(stats.spooled)", "spool": spool.directory])
            return true
        } catch {
            // spoolPending stays set: the worker's next read clears it if the spool is empty
            // (another publisher's append may have begun meanwhile, or the worker spooled).
            warnOccasionally("the spool cannot take more; sources wait for the sink", ["error": "\(error)"])
            return false
        }
    }

    /// Moves every queued event to the spool, in order; a batch the spool refuses is delivered
    /// (with retries) instead.
    func spillQueue() async {
        guard let spool else { return }
        spoolHoldsRegular = true
        while true {
            let batch = takeBatch()
            if batch.isEmpty { return }
            if (try? await spool.append(batch.events)) != nil {
                stats.spooled += batch.count
                settle(batch, .accepted)
            } else {
                await deliver(batch, spill: false)
            }
        }
    }

    /// Writes the oldest spooled batch and moves the read position past it once the sink accepted
    /// or rejected it. Returns false when the spool is empty or unreadable, or when shutdown
    /// stopped the retries (the batch stays on disk for the next start); true to go on (also
    /// when a batch was spooled while the spool was being read).
    @discardableResult
    func deliverFromSpool() async -> Bool {
        guard let spool else {
            spoolPending = false
            return false
        }
        let record: Spool.Record
        // Publishers spool behind the worker while it reads (actor reentrancy): an append that
        // began meanwhile may land after the read found nothing, so look again rather than
        // leave its batch on disk unseen until the next start.
        let appendsBefore = spoolAppendsBegun
        do {
            guard let next = try await spool.next() else {
                guard spoolAppendsBegun == appendsBefore else { return true }
                spoolPending = false
                spoolHoldsRegular = false
                return false
            }
            record = next
        } catch {
            logger.error(
                "cannot read the spool; its events stay on disk", metadata: ["sink": "\(name)", "error": "\(error)"])
            spoolPending = false
            return false
        }
        guard await write(record.events, origin: .spool) != .gaveUp else { return false }
        do {
            try await spool.commit(record)
        } catch {
            logger.error(
                "cannot move the spool's read position; the batch may be sent again",
                metadata: ["sink": "\(name)", "error": "\(error)"])
        }
        return true
    }

    /// Says what the drain deadline left in the spool: not lost, delivered after the next start.
    func warnSpoolLeftAtDeadline() async {
        guard let spool else { return }
        let batches = await spool.pendingBatches
        guard batches > 0 else { return }
        logger.warning(
            "the drain deadline passed before the spool was empty; its events stay on disk and are delivered after the next start",
            metadata: [
                "sink": "\(name)", "spooled_batches": "\(batches)", "spool": "\(spool.directory)",
                "drain_timeout": "\(drainTimeout)",
            ])
    }
}
