import CollectorCore
import Logging

/// Builds the parts of a run from configuration entries: a sink with its spool and dead letters,
/// a source with its status board and stop request. The start uses it, and so does a SIGHUP that
/// adds or changes entries (with the running configuration's state directory and services).
struct RunParts: Sendable {
    let stateDirectory: String
    let configurationDirectory: String
    /// Services started for this run, by name → URL (the simulator's).
    let services: [String: String]
    /// How long a sink may drain or a source may take to stop (`pipeline.drain_timeout`).
    let drainTimeout: Duration
    let logger: Logger
    /// The fleet this instance shares its sources' tenants with (`coordination:`), if any.
    var coordination: (any SourceCoordination)?

    /// Opens a sink's spool and dead letters and makes the sink. With `deferred`, the sink
    /// itself opens on its first write (``DeferredSink``): a sink that cannot open yet fails its
    /// writes, which are retried, instead of failing a reload.
    func openSlot(_ entry: ConfiguredSink, deferred: Bool = false) async throws -> EventPipeline.SinkSlot {
        let s = entry.settings
        var sinkLogger = logger
        sinkLogger[metadataKey: "sink"] = "\(s.name)"
        let context = SinkContext(
            name: s.name, logger: sinkLogger, stateDirectory: "\(stateDirectory)/sinks/\(s.name)",
            configurationDirectory: configurationDirectory)
        do {
            let spool = try await openSpool(for: s)
            let sink: any Sink
            if deferred {
                sink = DeferredSink(name: s.name) { try await entry.make(context) }
            } else {
                sink = try await entry.make(context)
            }
            let deadLetters =
                s.deadLetters
                ? DeadLetterStore(path: CollectorStatus.deadLetterPath(state: stateDirectory, sink: s.name)) : nil
            return EventPipeline.SinkSlot(
                name: s.name, sink: sink, settings: s.delivery, deadLetters: deadLetters, spool: spool)
        } catch {
            throw StartupError(message: "sink '\(s.name)' (\(s.type), \(entry.file)) could not start: \(error)")
        }
    }

    private func openSpool(for s: SinkCommonSettings) async throws -> Spool? {
        guard let size = s.spoolMaxSize else { return nil }
        let spool = Spool(directory: "\(stateDirectory)/sinks/\(s.name)/spool", maxBytes: size.bytes)
        try await spool.open()
        for problem in await spool.problems {
            logger.error("spool repaired on start", metadata: ["sink": "\(s.name)", "problem": "\(problem)"])
        }
        let pending = await spool.pendingBatches
        if pending > 0 {
            logger.info(
                "spool holds batches from an earlier run; they are delivered first",
                metadata: ["sink": "\(s.name)", "batches": "\(pending)"])
        }
        return spool
    }

    /// Makes a source, resuming from the checkpoints under its state directory.
    func makeSource(_ entry: ConfiguredSource) async throws -> RunningSources.Entry {
        let s = entry.settings
        var sourceLogger = logger
        sourceLogger[metadataKey: "source"] = "\(s.name)"
        let context = SourceContext(
            name: s.name, logger: sourceLogger, stateDirectory: "\(stateDirectory)/sources/\(s.name)",
            configurationDirectory: configurationDirectory, services: services, coordination: coordination)
        do {
            let source = try await entry.make(context)
            return RunningSources.Entry(name: s.name, source: source, board: context.status, stop: context.stop)
        } catch {
            throw StartupError(message: "source '\(s.name)' (\(s.type), \(entry.file)) could not start: \(error)")
        }
    }
}
