extension EventPipeline {
    /// Removes sinks and adds others while no publication is in progress (SIGHUP with a changed
    /// configuration). Each removed sink drains its queue (within the drain timeout; what is
    /// left goes to its spool or is reported undelivered, so its source collects it again),
    /// flushes and closes before `makeSlots` runs, so a replaced sink's successor reopens the
    /// same files and spool after it. Publications wait meanwhile: nothing is queued for a sink
    /// on its way out, and nothing published after the reconfiguration misses a new sink.
    ///
    /// What became of a reconfiguration.
    package enum ReconfigurationOutcome: Equatable, Sendable {
        case applied
        /// Nothing changed: the pipeline is shutting down.
        case shuttingDown
        /// Nothing changed: publications stayed blocked (a sink's queue full, the sink failing)
        /// for longer than the drain timeout.
        case blocked
    }

    @discardableResult
    package func reconfigure(
        removing names: Set<String>, adding makeSlots: () async -> [SinkSlot]
    ) async -> ReconfigurationOutcome {
        guard await gate.enterExclusive(within: drainTimeout) else { return .blocked }
        let leaving = roster.withLock { roster -> [any SinkFeeding]? in
            guard !roster.closed else { return nil }
            let leaving = roster.workers.filter { names.contains($0.name) }.map(\.worker)
            roster.workers.removeAll { names.contains($0.name) }
            roster.required.subtract(names)
            return leaving
        }
        guard let leaving else {
            await gate.leaveExclusive()
            return .shuttingDown
        }
        for worker in leaving { await worker.beginClosing(forReload: true) }
        for worker in leaving { await worker.waitUntilFinished() }
        guard !roster.withLock({ $0.closed }) else {
            await gate.leaveExclusive()
            return .shuttingDown
        }
        let slots = await makeSlots()
        let added = roster.withLock { roster -> Bool in
            guard !roster.closed else { return false }
            for slot in slots {
                let worker = makeWorker(slot)
                roster.workers.append((slot.name, worker))
                if slot.settings.required { roster.required.insert(slot.name) }
                startsContinuation.yield(worker)
            }
            return true
        }
        if !added {
            // Shut down while the removed sinks drained: the new ones never open.
            for slot in slots {
                try? await slot.sink.close()
                await slot.spool?.close()
                await slot.deadLetters?.close()
            }
        }
        await gate.leaveExclusive()
        return added ? .applied : .shuttingDown
    }

    /// The names of the sinks being fed now, in order.
    package var sinkNames: [String] { roster.withLock { $0.workers.map(\.name) } }
}
