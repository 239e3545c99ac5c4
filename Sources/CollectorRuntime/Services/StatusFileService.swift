import CollectorCore
import ServiceLifecycle

/// Writes `<state>/status.json` every two seconds while the collector runs (what `graph-collector
/// status` reads), and once more with `running: false` and the final counters at the end.
struct StatusFileService: Service {
    let writer: CollectorStatus.Writer
    let pipeline: EventPipeline
    let sources: RunningSources
    let startedAt: Timestamp
    let notifier: SystemdNotifier
    /// Two seconds, or half systemd's watchdog interval when that is shorter.
    let interval: Duration

    init(
        stateDirectory: String, pipeline: EventPipeline, sources: RunningSources,
        notifier: SystemdNotifier = SystemdNotifier(environment: [:])
    ) {
        writer = CollectorStatus.Writer(path: CollectorStatus.path(state: stateDirectory))
        self.pipeline = pipeline
        self.sources = sources
        self.notifier = notifier
        startedAt = .now()
        interval = min(.seconds(2), notifier.watchdogInterval.map { $0 / 2 } ?? .seconds(2))
    }

    /// Writes until graceful shutdown reaches this service (the last to stop, so the file shows
    /// the drain as it happens).
    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let sinks = await pipeline.statistics()
            await write(running: true, sinks: sinks)
            if notifier.isActive {
                // The watchdog hears from the loop that also proves the pipeline answers.
                let ping = notifier.watchdogInterval == nil ? "" : "WATCHDOG=1\n"
                notifier.notify(ping + "STATUS=" + Self.summary(sinks))
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One line for `systemctl status`: what the sinks accepted and hold.
    static func summary(_ sinks: [SinkStatistics]) -> String {
        let accepted = sinks.map(\.accepted).reduce(0, +)
        let queued = sinks.map(\.queued).reduce(0, +)
        let failing = sinks.filter { $0.failingSince != nil }.map(\.name)
        var line = "collecting: \(accepted) events accepted by \(sinks.count) sink(s), \(queued) queued"
        if !failing.isEmpty { line += "; retrying: " + failing.joined(separator: ", ") }
        return line
    }

    /// The final state, after the run.
    func finish(sinks: [SinkStatistics]) async {
        await write(running: false, sinks: sinks)
        await writer.close()
    }

    private func write(running: Bool, sinks: [SinkStatistics]) async {
        await writer.write(
            running: running, startedAt: startedAt, sources: sources.names, streams: sources.boards.flatMap(\.snapshot),
            sinks: sinks)
    }
}
