import CollectorCore
import Logging

extension ReloadService {
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
        await pipeline.reconfigure(removing: changes.leaving) {
            for name in changes.removed {
                logger.info("SIGHUP: sink removed: its queue drained and it closed", metadata: ["sink": "\(name)"])
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
        return result
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
        await withTaskGroup(of: Void.self) { group in
            for name in changes.leaving {
                group.addTask { await sources.remove(name) }
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
