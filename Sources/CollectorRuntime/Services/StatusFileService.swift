import CollectorCore
import ServiceLifecycle

/// Writes `<state>/status.json` every two seconds while the collector runs (what `graph-collector
/// status` reads), and once more with `running: false` and the final counters at the end.
struct StatusFileService: Service {
    let writer: CollectorStatus.Writer
    let pipeline: EventPipeline
    let sources: [String]
    let boards: [SourceStatusBoard]
    let startedAt: Timestamp
    var interval: Duration = .seconds(2)

    init(stateDirectory: String, pipeline: EventPipeline, sources: [String], boards: [SourceStatusBoard]) {
        writer = CollectorStatus.Writer(path: CollectorStatus.path(state: stateDirectory))
        self.pipeline = pipeline
        self.sources = sources
        self.boards = boards
        startedAt = .now()
    }

    /// Writes until graceful shutdown reaches this service (the last to stop, so the file shows
    /// the drain as it happens).
    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await write(running: true, sinks: await pipeline.statistics())
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// The final state, after the run.
    func finish(sinks: [SinkStatistics]) async {
        await write(running: false, sinks: sinks)
        await writer.close()
    }

    private func write(running: Bool, sinks: [SinkStatistics]) async {
        await writer.write(
            running: running, startedAt: startedAt, sources: sources, streams: boards.flatMap(\.snapshot), sinks: sinks)
    }
}
