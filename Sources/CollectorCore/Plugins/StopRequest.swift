import Synchronization

/// Asked of every source when the collector shuts down gracefully (SIGTERM, SIGINT): start no new
/// work, wait until what was already published is accepted, checkpoint it, and return. The sinks
/// keep delivering meanwhile. A source that does not look at it is cancelled when the grace
/// period (`pipeline.drain_timeout`) ends, and collects again from its last checkpoint.
public final class StopRequest: Sendable {
    private let requested = Atomic<Bool>(false)
    /// What runs when the stop is requested; nil once it ran.
    private let actions = Mutex<[@Sendable () -> Void]?>([])

    public init() {}

    public var isRequested: Bool { requested.load(ordering: .acquiring) }

    public func request() {
        requested.store(true, ordering: .releasing)
        let run = actions.withLock { actions in
            defer { actions = nil }
            return actions ?? []
        }
        for action in run { action() }
    }

    /// Runs `action` once a stop is requested (right away if it was already), for what waits
    /// without looking at ``isRequested``.
    public func whenRequested(_ action: @escaping @Sendable () -> Void) {
        let now = actions.withLock { actions in
            guard actions != nil else { return true }
            actions?.append(action)
            return false
        }
        if now { action() }
    }

    /// Sleeps for `duration`, returning early once a stop is requested. Throws
    /// `CancellationError` when the task is cancelled.
    public func sleep(for duration: Duration) async throws {
        let clock = ContinuousClock()
        let end = clock.now + duration
        while !isRequested {
            let left = end - clock.now
            if left <= .zero { return }
            try await Task.sleep(for: min(left, .milliseconds(50)))
        }
    }
}
