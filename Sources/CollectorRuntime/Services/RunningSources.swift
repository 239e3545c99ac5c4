import CollectorCore
import Synchronization

/// The sources of a run as they are now, in order: a SIGHUP adds and removes them while
/// ``SourcesService`` runs them; the status file, `/metrics` and `/readyz` read their status
/// boards each time.
final class RunningSources: Sendable {
    struct Entry: Sendable {
        var name: String
        var source: any Source
        var board: SourceStatusBoard
        var stop: StopRequest
        var done = Completion()
        /// Cancels the source's task when it does not stop in time.
        var cancellation = SourceCancellation()
    }

    private struct State {
        var entries: [Entry] = []
        /// Sources whose `run` has not returned yet.
        var active = 0
        /// Reloads in progress: the run does not end while one is between stopping and starting.
        var holds = 0
        var stopping = false
        /// No source starts any more: every one returned, or the run is stopping.
        var ended = false

        /// Ends the starts when nothing runs and no reload holds them; true the first time.
        mutating func endIfIdle() -> Bool {
            guard !ended, active == 0, holds == 0 else { return false }
            ended = true
            return true
        }
    }

    private let state = Mutex(State())
    /// Sources to start: those of the start, then those a SIGHUP adds. Finished when every
    /// source has returned (a finite run) or after a graceful shutdown.
    let starts: AsyncStream<Entry>
    private let continuation: AsyncStream<Entry>.Continuation

    init(_ entries: [Entry]) {
        (starts, continuation) = AsyncStream.makeStream(of: Entry.self)
        state.withLock { state in
            state.entries = entries
            state.active = entries.count
        }
        for entry in entries { continuation.yield(entry) }
        if state.withLock({ $0.endIfIdle() }) { continuation.finish() }
    }

    var names: [String] { state.withLock { $0.entries.map(\.name) } }
    var boards: [SourceStatusBoard] { state.withLock { $0.entries.map(\.board) } }

    /// Starts a source; false when the run is stopping.
    func add(_ entry: Entry) -> Bool {
        state.withLock { state -> Bool in
            guard !state.stopping, !state.ended else { return false }
            // Yielded under the lock, so that nothing ends the starts in between.
            if case .terminated = continuation.yield(entry) { return false }
            state.entries.removeAll { $0.name == entry.name }
            state.entries.append(entry)
            state.active += 1
            return true
        }
    }

    /// Asks a source to stop, waits until it has checkpointed what the sinks accepted and
    /// returned, and forgets it. A source still running after `grace` (waiting for a sink that
    /// keeps failing) is cancelled; it collects again from its last checkpoint. False then.
    func remove(_ name: String, within grace: Duration) async -> Bool {
        guard let entry = state.withLock({ $0.entries.first { $0.name == name } }) else { return true }
        entry.stop.request()
        let timer = Task {
            guard (try? await Task.sleep(for: grace)) != nil else { return }
            entry.cancellation.cancel()
        }
        await entry.done.wait()
        timer.cancel()
        state.withLock { $0.entries.removeAll { $0.name == name } }
        return !entry.cancellation.isCancelled
    }

    /// Called when a source's `run` has returned.
    func finished(_ entry: Entry) {
        entry.done.finish()
        let last = state.withLock { state -> Bool in
            state.active -= 1
            return state.endIfIdle()
        }
        if last { continuation.finish() }
    }

    /// Keeps the run going while a SIGHUP replaces sources (one stops before the other starts).
    func hold() { state.withLock { $0.holds += 1 } }

    func release() {
        let last = state.withLock { state -> Bool in
            state.holds -= 1
            return state.endIfIdle()
        }
        if last { continuation.finish() }
    }

    /// Graceful shutdown: every source is asked to stop, and none starts any more.
    func stopAll() {
        let entries = state.withLock { state -> [Entry] in
            state.stopping = true
            return state.entries
        }
        for entry in entries { entry.stop.request() }
        if state.withLock({ $0.endIfIdle() }) { continuation.finish() }
    }

    /// A source failed and the run ends: nothing more starts.
    func closeStarts() {
        state.withLock { state in
            state.stopping = true
            state.ended = true
        }
        continuation.finish()
    }
}

/// The task a source runs in, cancelled on request (before or after it starts).
final class SourceCancellation: Sendable {
    private let state = Mutex<(task: Task<Void, any Error>?, cancelled: Bool)>((nil, false))

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    func attach(_ task: Task<Void, any Error>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}

/// Set once, awaited by any number of tasks.
final class Completion: Sendable {
    private let state = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func finish() {
        let waiters = state.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}
