public import CollectorCore
public import Logging
import GraphSimulator
import ServiceLifecycle
import UnixSignals
import Synchronization
import CollectorSystem

/// Builds the sinks, the pipeline and the sources of a loaded configuration and runs them until
/// the sources finish or SIGINT/SIGTERM asks for a graceful shutdown: sources stop first, then
/// the pipeline drains its queues, flushes and closes every sink.
public enum CollectorApplication {
    /// What a run did, per sink.
    public struct Summary: Sendable {
        public var sinks: [SinkStatistics]
    }

    public static func run(_ configuration: LoadedConfiguration, logger: Logger) async throws -> Summary {
        let stateDirectory = configuration.stateDirectory
        do {
            try FileSystem.makeDirectories(stateDirectory)
        } catch {
            throw StartupError(message: "cannot create the state directory: \(error)")
        }

        var services: [String: String] = [:]
        let simulator = try await configuration.settings.simulator?.start(services: &services)
        if let settings = configuration.settings.simulator, let url = services["graph-simulator"] {
            logger.info("Graph simulator listening", metadata: ["url": "\(url)", "tenant_id": "\(settings.configuration.tenantId)", "client_id": "\(settings.configuration.clientId)"])
        }
        defer { if let simulator { Task { await simulator.stop() } } }

        var slots: [EventPipeline.SinkSlot] = []
        var built: [any Sink] = []
        for entry in configuration.sinks {
            let s = entry.settings
            var sinkLogger = logger
            sinkLogger[metadataKey: "sink"] = "\(s.name)"
            let context = SinkContext(
                name: s.name, logger: sinkLogger, stateDirectory: "\(stateDirectory)/sinks/\(s.name)",
                configurationDirectory: configuration.directory)
            do {
                var spool: Spool?
                if let size = s.spoolMaxSize {
                    let opened = Spool(directory: "\(stateDirectory)/sinks/\(s.name)/spool", maxBytes: size.bytes)
                    try await opened.open()
                    for problem in await opened.problems {
                        logger.error("spool repaired on start", metadata: ["sink": "\(s.name)", "problem": "\(problem)"])
                    }
                    let pending = await opened.pendingBatches
                    if pending > 0 {
                        logger.info("spool holds batches from an earlier run; they are delivered first", metadata: ["sink": "\(s.name)", "batches": "\(pending)"])
                    }
                    spool = opened
                }
                let sink = try await entry.make(context)
                built.append(sink)
                let deadLetters = s.deadLetters
                    ? DeadLetterStore(path: CollectorStatus.deadLetterPath(state: stateDirectory, sink: s.name)) : nil
                slots.append(
                    EventPipeline.SinkSlot(
                        name: s.name, sink: sink, settings: s.delivery, deadLetters: deadLetters, spool: spool))
            } catch {
                for sink in built { try? await sink.close() }
                throw StartupError(message: "sink '\(s.name)' (\(s.type), \(entry.file)) could not start: \(error)")
            }
        }
        let pipeline = EventPipeline(sinks: slots, drainTimeout: configuration.settings.pipeline.drainTimeout.duration, logger: logger)

        var sources: [(String, any Source)] = []
        var boards: [SourceStatusBoard] = []
        var stops: [StopRequest] = []
        for entry in configuration.sources {
            let s = entry.settings
            var sourceLogger = logger
            sourceLogger[metadataKey: "source"] = "\(s.name)"
            let context = SourceContext(
                name: s.name, logger: sourceLogger, stateDirectory: "\(stateDirectory)/sources/\(s.name)",
                configurationDirectory: configuration.directory, services: services)
            boards.append(context.status)
            stops.append(context.stop)
            do {
                sources.append((s.name, try await entry.make(context)))
            } catch {
                for sink in built { try? await sink.close() }
                throw StartupError(message: "source '\(s.name)' (\(s.type), \(entry.file)) could not start: \(error)")
            }
        }

        logger.info(
            "collector starting",
            metadata: ["config": "\(configuration.file)", "sources": "\(sources.map(\.0).joined(separator: ","))",
                       "sinks": "\(slots.map(\.name).joined(separator: ","))", "state_directory": "\(stateDirectory)"])
        let sourcesService = SourcesService(sources: sources, stops: stops, grace: configuration.settings.pipeline.drainTimeout.duration,
                                            publisher: pipeline, logger: logger, closePipeline: { await pipeline.shutdown() })
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: pipeline),
                    .init(service: sourcesService, successTerminationBehavior: .gracefullyShutdownGroup,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        var metrics: MetricsServer?
        if let (host, port) = configuration.settings.metricsListen {
            do {
                let started = try await MetricsServer.start(host: host, port: port, pipeline: pipeline, sources: boards, startedAt: .now())
                metrics = started
                logger.info("metrics endpoint listening", metadata: ["url": "http://\(host.contains(":") ? "[\(host)]" : host):\(started.port)/metrics"])
                try? AtomicFile.write(Array("\(started.port)\n".utf8), to: "\(stateDirectory)/metrics.port")
            } catch {
                for sink in built { try? await sink.close() }
                throw StartupError(message: "metrics: cannot listen on \(host):\(port): \(error)")
            }
        }
        defer { if let metrics { Task { await metrics.stop() } } }
        // `graph-collector status` reads what this writes every two seconds.
        let statusFile = CollectorStatus.Writer(path: CollectorStatus.path(state: stateDirectory))
        let sourceNames = sources.map(\.0)
        let startedAt = Timestamp.now()
        let statusWriter = Task { [boards] in
            while !Task.isCancelled {
                await statusFile.write(running: true, startedAt: startedAt, sources: sourceNames, streams: boards.flatMap(\.snapshot),
                                       sinks: await pipeline.statistics())
                try? await Task.sleep(for: .seconds(2))
            }
        }
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        statusWriter.cancel()
        let summary = Summary(sinks: await pipeline.statistics())
        await statusFile.write(running: false, startedAt: startedAt, sources: sourceNames, streams: boards.flatMap(\.snapshot), sinks: summary.sinks)
        await statusFile.close()
        for s in summary.sinks {
            logger.info(
                "sink summary",
                metadata: ["sink": "\(s.name)", "accepted": "\(s.accepted)", "rejected": "\(s.rejected)",
                           "dead_lettered": "\(s.deadLettered)", "dropped": "\(s.dropped)", "spooled": "\(s.spooled)",
                           "from_spool": "\(s.unspooled)",
                           "undelivered": "\(s.undelivered)", "retries": "\(s.retries)", "batches": "\(s.batches)"])
        }
        if let failure { throw failure }
        return summary
    }
}

/// The collector could not start; the message names the part and the reason.
public struct StartupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Runs every source concurrently; returns when all have finished. On graceful shutdown every
/// source is asked to stop (``StopRequest``): it starts nothing new, waits for what it published
/// to be accepted (the pipeline is still delivering) and checkpoints it. Sources still running
/// after `grace` are cancelled; what they had not checkpointed is collected again next run.
struct SourcesService: Service {
    let sources: [(String, any Source)]
    let stops: [StopRequest]
    let grace: Duration
    let publisher: any EventPublisher
    let logger: Logger
    /// Called when the grace period ends with sources still running: a source waiting for queue
    /// space is released (its publish fails) instead of holding the shutdown forever.
    var closePipeline: @Sendable () async -> Void = {}

    func run() async throws {
        let work = Task { try await runAll() }
        let timer = Mutex<Task<Void, Never>?>(nil)
        defer { timer.withLock { $0?.cancel() } }
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
        } onGracefulShutdown: { [stops, grace, logger, closePipeline] in
            logger.info("stopping sources: waiting for what they published to be accepted", metadata: ["grace": "\(grace)"])
            for stop in stops { stop.request() }
            timer.withLock { $0 = Task {
                guard (try? await Task.sleep(for: grace)) != nil, !work.isCancelled else { return }
                logger.warning("sources did not stop within the grace period; cancelling them", metadata: ["grace": "\(grace)"])
                work.cancel()
                await closePipeline()
            } }
        }
    }

    private func runAll() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, source) in sources {
                group.addTask {
                    do {
                        try await source.run(publisher: publisher)
                    } catch is CancellationError {
                        logger.info("source stopped for shutdown", metadata: ["source": "\(name)"])
                    } catch {
                        if Task.isCancelled {
                            logger.info("source stopped for shutdown", metadata: ["source": "\(name)"])
                            return
                        }
                        logger.critical("source failed", metadata: ["source": "\(name)", "error": "\(error)"])
                        throw error
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
