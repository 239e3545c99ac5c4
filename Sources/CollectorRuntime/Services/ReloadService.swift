import CollectorCore
import CollectorSystem
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP (what logrotate's `postrotate` and `systemctl reload` send): the configuration is read
/// and checked again. A broken one is reported problem by problem and the running one stays.
/// Otherwise the differences apply (``ReloadPlan``): changed and removed sinks drain and close,
/// changed and added ones open; changed and removed sources stop after checkpointing what the
/// sinks accepted, changed and added ones start from their checkpoints. Unchanged entries keep
/// running, and every sink reopens its files by name, so logrotate works without `copytruncate`.
/// Top-level settings (state directory, logging, pipeline, metrics) apply at the next start.
struct ReloadService: Service {
    let initial: LoadedConfiguration
    let registry: PluginRegistry
    let pipeline: EventPipeline
    let sources: RunningSources
    let parts: RunParts
    let notifier: SystemdNotifier
    let logger: Logger
    /// False for the built-in quickstart, whose configuration is not a file to read again.
    let readsFiles: Bool
    /// Trapped before the run starts, so that no SIGHUP, early or during the drain, ends the process.
    let hangups: UnixSignalsSequence

    init(
        configuration: LoadedConfiguration, registry: PluginRegistry, pipeline: EventPipeline,
        sources: RunningSources, parts: RunParts, notifier: SystemdNotifier, logger: Logger,
        hangups: UnixSignalsSequence
    ) {
        initial = configuration
        self.registry = registry
        self.pipeline = pipeline
        self.sources = sources
        self.parts = parts
        self.notifier = notifier
        self.logger = logger
        self.hangups = hangups
        readsFiles = configuration.files.allSatisfy {
            (try? FileSystem.readRegularFile($0, limit: FileSystem.configurationFileLimit)) != nil
        }
    }

    func run() async throws {
        var running = initial
        for await _ in hangups.cancelOnGracefulShutdown() {
            notifier.notify(
                "RELOADING=1\n\(SystemdNotifier.monotonicField)\nSTATUS=reloading: checking the configuration")
            // Files first: logrotate's reopen must not wait for a reload that waits for a sink.
            await pipeline.reopenSinks()
            logger.info("SIGHUP: every sink reopens its files before its next write")
            var outcome = "reloaded"
            if readsFiles, let reloaded = readAgain(running) {
                let plan = ReloadPlan(running: running, reloaded: reloaded)
                running = await apply(plan, running: running, reloaded: reloaded)
                outcome = plan.summary
            } else if readsFiles {
                outcome = "reload refused, the running configuration stays"
            }
            notifier.notify("READY=1\nSTATUS=collecting (\(outcome))")
        }
    }

    /// The configuration as it is now on disk, or nil (each problem logged) when it is broken.
    private func readAgain(_ running: LoadedConfiguration) -> LoadedConfiguration? {
        do {
            let reloaded = try ConfigLoader.load(file: running.file, registry: registry)
            let problems = reloaded.unrunnable(name: running.file)
            for problem in problems {
                logger.error(
                    "SIGHUP: the configuration has a problem; the running one stays",
                    metadata: ["problem": "\(problem)"])
            }
            return problems.isEmpty ? reloaded : nil
        } catch {
            for problem in error.errors {
                logger.error(
                    "SIGHUP: the configuration has a problem; the running one stays",
                    metadata: ["problem": "\(problem)"])
            }
            return nil
        }
    }
}
