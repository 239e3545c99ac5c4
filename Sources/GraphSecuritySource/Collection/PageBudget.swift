package import CollectorCore
import Synchronization

/// How many pages a source may hold between asking Graph for them and handing their events to
/// the pipeline, over all its tenants and endpoints (`pages_in_memory`). When the sinks fall
/// behind, every stream's publication waits for queue space with its page in hand; without a
/// bound, 1,000 tenants × 3 endpoints would all fetch a page and hold it. With one, the streams
/// past the bound wait before they fetch, in arrival order, and hold nothing.
///
/// Backfill pages (``PublishLane/bulk``) take at most three quarters of the places, so a
/// regular poll finds one even while many backfills wait on full queues.
///
/// Once the source is asked to stop, no stream takes a place any more: those waiting for one
/// are woken with ``PagesStopped`` at once, so a graceful stop starts no new request.
package final class PageBudget: Sendable {
    private struct Waiter {
        var id: UInt64
        var lane: PublishLane
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var taken = 0
        var bulkTaken = 0
        var waiting: [Waiter] = []
        var nextID: UInt64 = 0
        var stopped = false
    }

    private let state = Mutex(State())
    package let pages: Int
    /// The most places bulk pages hold at once.
    package let bulkPages: Int

    /// A budget of `pages`, closed to new takers once `stop` is requested.
    package init(pages: Int, stop: StopRequest? = nil) {
        self.pages = pages
        // At least one place is always left to regular polls (a budget of one has none to give).
        bulkPages = max(1, min(pages - 1, pages * 3 / 4))
        stop?.whenRequested { [weak self] in self?.close() }
    }

    /// Takes a page's place, waiting for one if none is free for `lane`. Throws
    /// `CancellationError` when the task is cancelled while it waits, and ``PagesStopped`` once
    /// the source is stopping.
    package func acquire(_ lane: PublishLane = .regular) async throws {
        let id: UInt64? = try state.withLock { s throws(PagesStopped) in
            if s.stopped { throw PagesStopped() }
            if s.waiting.isEmpty, take(lane, &s) { return nil }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let refused: (any Error)? = state.withLock { s in
                    if Task.isCancelled { return CancellationError() }
                    if s.stopped { return PagesStopped() }
                    s.waiting.append(Waiter(id: id, lane: lane, continuation: continuation))
                    return nil
                }
                // A place freed meanwhile is handed over by the next release (or right here).
                if let refused { continuation.resume(throwing: refused) } else { handOver() }
            }
        } onCancel: {
            let waiter = state.withLock { s in s.waiting.firstIndex { $0.id == id }.map { s.waiting.remove(at: $0) } }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Takes a page's place for `lane` if one is free now, without waiting.
    package func tryAcquire(_ lane: PublishLane = .regular) -> Bool {
        state.withLock { s in s.waiting.isEmpty && take(lane, &s) }
    }

    /// Gives a place of `lane` back, to the longest waiter it can go to.
    package func release(_ lane: PublishLane = .regular) {
        state.withLock { s in
            s.taken -= 1
            if lane == .bulk { s.bulkTaken -= 1 }
        }
        handOver()
    }

    /// Refuses every waiter and every later taker with ``PagesStopped``; places already taken
    /// are still given back as usual.
    package func close() {
        let refused = state.withLock { s in
            s.stopped = true
            defer { s.waiting = [] }
            return s.waiting
        }
        for waiter in refused { waiter.continuation.resume(throwing: PagesStopped()) }
    }

    /// Places taken now, and streams waiting for one (for tests and status).
    package var taken: Int { state.withLock { $0.taken } }
    package var waiting: Int { state.withLock { $0.waiting.count } }

    private func take(_ lane: PublishLane, _ s: inout State) -> Bool {
        guard s.taken < pages, lane == .regular || s.bulkTaken < bulkPages else { return false }
        s.taken += 1
        if lane == .bulk { s.bulkTaken += 1 }
        return true
    }

    /// Lets in every waiter, oldest first, that a free place can go to.
    private func handOver() {
        let ready = state.withLock { s in
            var ready: [CheckedContinuation<Void, any Error>] = []
            var index = 0
            while index < s.waiting.count, s.taken < pages {
                if take(s.waiting[index].lane, &s) {
                    ready.append(s.waiting.remove(at: index).continuation)
                } else {
                    index += 1
                }
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }
}

/// Why a stream got no page place: its source is stopping, and starts no new request.
package struct PagesStopped: Error, CustomStringConvertible {
    package var description: String { "stopping: no new Graph request is started once a stop is requested" }
}

/// A place of a ``PageBudget`` in one lane, as a request takes and gives it back.
package struct PagePlace: Sendable {
    package let budget: PageBudget
    package let lane: PublishLane

    package init(_ budget: PageBudget, _ lane: PublishLane) {
        self.budget = budget
        self.lane = lane
    }

    package func take() async throws { try await budget.acquire(lane) }
    package func giveBack() { budget.release(lane) }
}
