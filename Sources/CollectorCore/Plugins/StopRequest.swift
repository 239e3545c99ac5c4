import Synchronization

/// Asked of every source when the collector shuts down gracefully (SIGTERM, SIGINT): start no new
/// work, wait until what was already published is accepted, checkpoint it, and return. The sinks
/// keep delivering meanwhile. A source that does not look at it is cancelled when the grace
/// period (`pipeline.drain_timeout`) ends, and collects again from its last checkpoint.
public final class StopRequest: Sendable {
    private struct State {
        var requested = false
        var nextWaiter = 0
        /// Sleepers waiting for a stop, woken by ``request()``.
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Sleepers cancelled before they started waiting.
        var abandoned: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    public var isRequested: Bool { state.withLock { $0.requested } }

    public func request() {
        let waiters = state.withLock { s in
            s.requested = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Sleeps for `duration`, returning early once a stop is requested. Throws
    /// `CancellationError` when the task is cancelled. A sleeper costs no wake-ups while it
    /// waits (a thousand tenants' streams sleep between their polls).
    public func sleep(for duration: Duration) async throws {
        guard !isRequested, duration > .zero else { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await Task.sleep(for: duration) }
            group.addTask { await self.waitForRequest() }
            defer { group.cancelAll() }
            try await group.next()
        }
        // Cancelled: the waiter for a stop may have returned before the sleep threw.
        try Task.checkCancellation()
    }

    /// Returns once a stop is requested, or the task is cancelled.
    private func waitForRequest() async {
        let id = state.withLock { s in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s in
                    if s.abandoned.remove(id) != nil || s.requested { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s in
                if let waiter = s.waiters.removeValue(forKey: id) { return Optional(waiter) }
                if !s.requested { s.abandoned.insert(id) }
                return nil
            }
            waiter?.resume()
        }
    }
}
