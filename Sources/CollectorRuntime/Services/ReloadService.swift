import CollectorCore
import CollectorSystem
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP (what logrotate's `postrotate` and `systemctl reload` send): the configuration is read
/// and checked again, and every sink flushes and reopens its files by name, so logrotate works
/// without `copytruncate`. The running configuration stays in force: a broken new one is
/// reported problem by problem, a changed one is reported as needing a restart.
struct ReloadService: Service {
    let configuration: LoadedConfiguration
    let registry: PluginRegistry
    let pipeline: EventPipeline
    let notifier: SystemdNotifier
    let logger: Logger
    /// The bytes of every configuration file at start (nil: not a file, the built-in quickstart).
    let started: [String: [UInt8]]?
    /// Trapped before the run starts, so that no SIGHUP, early or during the drain, ends the process.
    let hangups: UnixSignalsSequence

    init(
        configuration: LoadedConfiguration, registry: PluginRegistry, pipeline: EventPipeline,
        notifier: SystemdNotifier, logger: Logger, hangups: UnixSignalsSequence
    ) {
        self.hangups = hangups
        self.configuration = configuration
        self.registry = registry
        self.pipeline = pipeline
        self.notifier = notifier
        self.logger = logger
        started = Self.contents(of: configuration.files)
    }

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            notifier.notify(
                "RELOADING=1\n\(SystemdNotifier.monotonicField)\nSTATUS=reloading: checking the configuration")
            checkConfiguration()
            await pipeline.reopenSinks()
            logger.info("SIGHUP: every sink reopens its files before its next write")
            notifier.notify("READY=1\nSTATUS=collecting (reloaded)")
        }
    }

    private func checkConfiguration() {
        guard let started else { return }
        let reloaded: LoadedConfiguration
        do {
            reloaded = try ConfigLoader.load(file: configuration.file, registry: registry)
        } catch {
            for problem in error.errors {
                logger.error(
                    "SIGHUP: the configuration has a problem; the running one stays",
                    metadata: ["problem": "\(problem)"])
            }
            return
        }
        // New include files count as a change too.
        if Self.contents(of: reloaded.files) != started {
            logger.warning(
                "SIGHUP: the configuration changed; restart the collector to apply it (it drains first)",
                metadata: ["config": "\(configuration.file)"])
        }
    }

    /// Each file's bytes; nil when one cannot be read (at start: the configuration is not a
    /// file, the built-in quickstart; on SIGHUP: a file went missing, which counts as a change).
    static func contents(of files: [String]) -> [String: [UInt8]]? {
        var result: [String: [UInt8]] = [:]
        for file in files {
            guard let bytes = try? FileSystem.readRegularFile(file, limit: FileSystem.configurationFileLimit) else {
                return nil
            }
            result[file] = bytes
        }
        return result
    }
}
