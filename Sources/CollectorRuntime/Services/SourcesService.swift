import CollectorCore
import Logging
import ServiceLifecycle
import Synchronization

/// Runs every source concurrently, and those a SIGHUP adds (``RunningSources``); returns when all
/// have finished. On graceful shutdown every source is asked to stop (``StopRequest``): it starts
/// nothing new, waits for what it published to be accepted (the pipeline is still delivering)
/// and checkpoints it. Sources still running after `grace` are cancelled; what they had not
/// checkpointed is collected again next run.
struct SourcesService: Service {
    let running: RunningSources
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
        } onGracefulShutdown: { [running, grace, logger, closePipeline] in
            logger.info(
                "stopping sources: waiting for what they published to be accepted", metadata: ["grace": "\(grace)"])
            running.stopAll()
            timer.withLock {
                $0 = Task {
                    guard (try? await Task.sleep(for: grace)) != nil, !work.isCancelled else { return }
                    logger.warning(
                        "sources did not stop within the grace period; cancelling them", metadata: ["grace": "\(grace)"]
                    )
                    work.cancel()
                    await closePipeline()
                }
            }
        }
    }

    private func runAll() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for await entry in running.starts {
                group.addTask {
                    defer { running.finished(entry) }
                    try await run(entry)
                }
            }
        }
    }

    private func run(_ entry: RunningSources.Entry) async throws {
        let name = entry.name
        // Its own task, so that a SIGHUP can cancel this source alone (RunningSources.remove).
        let task = Task { [publisher] in try await entry.source.run(publisher: publisher) }
        entry.cancellation.attach(task)
        do {
            try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        } catch is CancellationError {
            logger.info("source stopped for shutdown", metadata: ["source": "\(name)"])
        } catch {
            if Task.isCancelled || entry.cancellation.isCancelled {
                logger.info("source stopped for shutdown", metadata: ["source": "\(name)"])
                return
            }
            logger.critical("source failed", metadata: ["source": "\(name)", "error": "\(error)"])
            running.closeStarts()
            throw error
        }
    }
}
