import Foundation

/// A second thread for a sink's CPU work: the thread that hands work over goes on with the next
/// piece while this one runs the previous, a two-stage pipeline on two cores. Pieces run in the
/// order given, one at a time; ``submit(_:)`` waits while one is already waiting, so at most one
/// runs and one waits.
///
/// The thread (which keeps the worker alive) ends after ``shutdown()``, once the work handed
/// over has run.
public final class WorkerThread: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var waiting: (() -> Void)?
    private var running = false
    private var stopping = false

    public init(name: String) {
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Hands `work` to the thread, after waiting for room if a piece is already waiting.
    ///
    /// The closure is not `@Sendable`: it runs on another thread, so what it touches must be
    /// handed over (the caller does not use it until ``waitUntilIdle()`` returns).
    public func submit(_ work: @escaping () -> Void) {
        condition.lock()
        precondition(!stopping, "WorkerThread.submit after shutdown: the thread has ended")
        while waiting != nil { condition.wait() }
        waiting = work
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every piece handed over has run.
    public func waitUntilIdle() {
        condition.lock()
        while waiting != nil || running { condition.wait() }
        condition.unlock()
    }

    /// Lets the thread end once the work handed over has run.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func runLoop() {
        while true {
            condition.lock()
            while waiting == nil && !stopping { condition.wait() }
            guard let work = waiting else {
                condition.unlock()
                return
            }
            waiting = nil
            running = true
            condition.broadcast()
            condition.unlock()
            work()
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
    }
}
