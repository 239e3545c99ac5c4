public import CollectorCore
import CollectorSystem
import Foundation
public import Logging
import ServiceLifecycle
import UnixSignals

/// Builds the sinks, the pipeline and the sources of a loaded configuration and runs them until
/// the sources finish or SIGINT/SIGTERM asks for a graceful shutdown: sources stop first, then
/// the pipeline drains its queues, flushes and closes every sink; the simulator, the metrics
/// endpoint and the status file stop last.
public enum CollectorApplication {
    /// What a run did, per sink.
    public struct Summary: Sendable {
        public var sinks: [SinkStatistics]
    }

    public static func run(_ configuration: LoadedConfiguration, logger: Logger) async throws -> Summary {
        try prepareStateDirectory(configuration.stateDirectory)
        CollectorMetrics.bootstrap()
        // SIGHUP is trapped from here to the end of the drain (ReloadService).
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        var startup = Startup(configuration: configuration, logger: logger)
        let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment, logger: logger)
        let group: ServiceGroup
        let pipeline: EventPipeline
        let status: StatusFileService
        do {
            try await startup.startSimulator()
            try await startup.joinFleet()
            pipeline = try await startup.openPipeline()
            let sources = try await startup.makeSources(publisher: pipeline)
            try await startup.startMetrics(pipeline: pipeline, sources: sources.running)
            status = StatusFileService(
                stateDirectory: configuration.stateDirectory, pipeline: pipeline, sources: sources.running,
                notifier: notifier)
            let readiness = ReadinessService(
                notifier: notifier,
                summary:
                    "collecting: \(configuration.sources.count) source(s) into \(configuration.sinks.count) sink(s)")
            let reload = ReloadService(
                configuration: configuration, registry: CollectorMain.registry, pipeline: pipeline,
                sources: sources.running, parts: startup.parts, notifier: notifier, logger: logger, hangups: hangups)
            group = startup.serviceGroup(
                pipeline: pipeline, sources: sources.service, status: status, readiness: readiness, reload: reload)
            logStart(configuration, sources: sources.running.names, logger: logger)
        } catch {
            await startup.undo()
            throw error
        }
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        let summary = Summary(sinks: await pipeline.statistics())
        await status.finish(sinks: summary.sinks)
        logSummary(summary, logger: logger)
        if let failure { throw failure }
        return summary
    }

    static func prepareStateDirectory(_ path: String) throws {
        do {
            try FileSystem.makeDirectories(path)
        } catch {
            throw StartupError(message: "cannot create the state directory: \(error)")
        }
    }

    static func logStart(_ configuration: LoadedConfiguration, sources: [String], logger: Logger) {
        logger.info(
            "collector starting",
            metadata: [
                "config": "\(configuration.file)", "sources": "\(sources.joined(separator: ","))",
                "sinks": "\(configuration.sinks.map(\.settings.name).joined(separator: ","))",
                "state_directory": "\(configuration.stateDirectory)",
            ])
    }

    static func logSummary(_ summary: Summary, logger: Logger) {
        for s in summary.sinks {
            logger.info(
                "sink summary",
                metadata: [
                    "sink": "\(s.name)", "accepted": "\(s.accepted)", "rejected": "\(s.rejected)",
                    "dead_lettered": "\(s.deadLettered)", "dropped": "\(s.dropped)", "spooled": "\(s.spooled)",
                    "from_spool": "\(s.unspooled)", "undelivered": "\(s.undelivered)", "retries": "\(s.retries)",
                    "batches": "\(s.batches)",
                ])
        }
    }
}

/// The collector could not start; the message names the part and the reason.
public struct StartupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
