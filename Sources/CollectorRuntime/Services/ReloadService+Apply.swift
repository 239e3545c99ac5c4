import CollectorCore
import Logging

extension ReloadService {
    static let orphanedSpool =
        "SIGHUP: the removed sink's spool stays on disk; what it holds is delivered only if a sink of that name "
        + "comes back"
    static let blockedReload =
        "SIGHUP: sink changes not applied: publications stayed blocked for the drain timeout (a sink's queue is "
        + "full and its writes keep failing); the running sinks stay, send SIGHUP again or restart"
    static let cancelledSource =
        "SIGHUP: source did not stop within the drain timeout and was cancelled; it collects again from its last "
        + "checkpoint"

    /// Applies `plan` and returns the configuration now running: `reloaded`'s entries, except
    /// where a new entry could not start (a changed one keeps its running version), with the
    /// running top-level settings (they apply at the next start).
    func apply(_ plan: ReloadPlan, running: LoadedConfiguration, reloaded: LoadedConfiguration) async
        -> LoadedConfiguration
    {
        if !plan.restartSettings.isEmpty {
            logger.warning(
                "SIGHUP: top-level settings changed; they apply when the collector restarts (it drains first)",
                metadata: ["settings": "\(plan.restartSettings.joined(separator: ","))"])
        }
        if plan.sinks.isEmpty && plan.sources.isEmpty {
            logger.info("SIGHUP: no sink or source changed")
        }
        var next = running
        next.files = reloaded.files
        next.sinks = await applySinks(plan.sinks, running: running.sinks, reloaded: reloaded.sinks)
        next.sources = await applySources(plan.sources, running: running.sources, reloaded: reloaded.sources)
        return next
    }

    /// Drains and closes the changed and removed sinks, then opens the changed and added ones.
    private func applySinks(
        _ changes: ReloadPlan.Changes, running: [ConfiguredSink], reloaded: [ConfiguredSink]
    ) async -> [ConfiguredSink] {
        guard !changes.isEmpty else { return running }
        let old = Dictionary(running.map { ($0.settings.name, $0) }, uniquingKeysWith: { a, _ in a })
        var result = reloaded
        let outcome = await pipeline.reconfigure(removing: changes.leaving) {
            for name in changes.removed {
                logger.info("SIGHUP: sink removed: its queue drained and it closed", metadata: ["sink": "\(name)"])
                if old[name]?.settings.spoolMaxSize != nil {
                    logger.warning(
                        "\(Self.orphanedSpool)",
                        metadata: ["sink": "\(name)", "spool": "\(parts.stateDirectory)/sinks/\(name)/spool"])
                }
            }
            var slots: [EventPipeline.SinkSlot] = []
            for entry in reloaded where changes.arriving.contains(entry.settings.name) {
                let name = entry.settings.name
                let verb = old[name] == nil ? "added" : "changed: drained, closed and reopened with its new settings"
                do {
                    slots.append(try await open(entry))
                    logger.info("SIGHUP: sink \(verb)", metadata: ["sink": "\(name)"])
                } catch {
                    logger.error(
                        "SIGHUP: sink could not start with its new settings", metadata: ["error": "\(error)"])
                    result.removeAll { $0.settings.name == name }
                    guard let previous = old[name], let slot = try? await open(previous) else { continue }
                    logger.warning("SIGHUP: the sink runs with its previous settings", metadata: ["sink": "\(name)"])
                    slots.append(slot)
                    result.append(previous)
                }
            }
            return slots
        }
        switch outcome {
        case .applied: return result
        case .shuttingDown: return running
        case .blocked:
            logger.error("\(Self.blockedReload)")
            return running
        }
    }

    /// A slot whose sink opens now if it can; if not, it opens on a later write (retried).
    private func open(_ entry: ConfiguredSink) async throws -> EventPipeline.SinkSlot {
        let slot = try await parts.openSlot(entry, deferred: true)
        if let deferred = slot.sink as? DeferredSink {
            do {
                _ = try await deferred.open()
            } catch {
                logger.error(
                    "SIGHUP: sink cannot open yet; its writes are retried with backoff",
                    metadata: ["sink": "\(entry.settings.name)", "error": "\(error)"])
            }
        }
        return slot
    }

    /// Stops the changed and removed sources (each checkpoints what the sinks accepted), then
    /// starts the changed and added ones from their checkpoints.
    private func applySources(
        _ changes: ReloadPlan.Changes, running: [ConfiguredSource], reloaded: [ConfiguredSource]
    ) async -> [ConfiguredSource] {
        guard !changes.isEmpty else { return running }
        let old = Dictionary(running.map { ($0.settings.name, $0) }, uniquingKeysWith: { a, _ in a })
        sources.hold()
        defer { sources.release() }
        let grace = parts.drainTimeout
        await withTaskGroup(of: Void.self) { group in
            for name in changes.leaving {
                group.addTask {
                    guard await !sources.remove(name, within: grace) else { return }
                    logger.warning("\(Self.cancelledSource)", metadata: ["source": "\(name)"])
                }
            }
        }
        for name in changes.removed {
            logger.info("SIGHUP: source removed: it stopped after checkpointing", metadata: ["source": "\(name)"])
        }
        var result = reloaded
        for entry in reloaded where changes.arriving.contains(entry.settings.name) {
            let name = entry.settings.name
            do {
                guard sources.add(try await parts.makeSource(entry)) else { break }
                let verb = old[name] == nil ? "added" : "changed: restarted from its checkpoint with its new settings"
                logger.info("SIGHUP: source \(verb)", metadata: ["source": "\(name)"])
            } catch {
                logger.error("SIGHUP: source could not start with its new settings", metadata: ["error": "\(error)"])
                result.removeAll { $0.settings.name == name }
                guard let previous = old[name], let restarted = try? await parts.makeSource(previous) else { continue }
                guard sources.add(restarted) else { break }
                logger.warning("SIGHUP: the source runs with its previous settings", metadata: ["source": "\(name)"])
                result.append(previous)
            }
        }
        return result
    }
}

extension ReloadPlan {
    /// One line for `systemctl status`.
    var summary: String {
        func part(_ c: Changes, _ noun: String) -> [String] {
            [("added", c.added), ("changed", c.changed), ("removed", c.removed)].compactMap { verb, names in
                names.isEmpty ? nil : "\(names.count) \(noun)(s) \(verb)"
            }
        }
        let parts = part(sinks, "sink") + part(sources, "source")
        return parts.isEmpty ? "reloaded, nothing changed" : "reloaded: " + parts.joined(separator: ", ")
    }
}
