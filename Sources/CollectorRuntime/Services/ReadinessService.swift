import ServiceLifecycle

/// Tells systemd (``SystemdNotifier``) that the collector is ready once its sinks are open and
/// its sources started, and that it is stopping as soon as graceful shutdown begins: the last
/// service of the group, so the first to hear of the shutdown.
struct ReadinessService: Service {
    let notifier: SystemdNotifier
    let summary: String

    func run() async throws {
        notifier.notify("READY=1\nSTATUS=\(summary)")
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1\nSTATUS=stopping: sources checkpoint, then the sinks drain")
    }
}
