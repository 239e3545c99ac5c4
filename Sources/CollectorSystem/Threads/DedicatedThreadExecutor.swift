import Foundation

/// A serial executor that runs its jobs on one dedicated OS thread.
///
/// Swift's cooperative pool has one thread per core (two on a small collector host); a blocking
/// `write(2)`, `fsync(2)` or `curl_easy_perform` there stalls every task. Give an actor that
/// does blocking I/O its own thread:
/// ```swift
/// actor FileSink: Sink {
///     private let executor = DedicatedThreadExecutor(name: "file-sink")
///     nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
/// }
/// ```
/// The thread (which keeps the executor alive) ends after ``shutdown()``, once the jobs already
/// queued have run: call it when the owner closes.
public final class DedicatedThreadExecutor: SerialExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var threadRunning = false
    public let name: String

    public init(name: String) {
        self.name = name
        condition.lock()
        startThread()
        condition.unlock()
    }

    /// Call with `condition` held.
    private func startThread() {
        threadRunning = true
        // The thread's closure holds the executor until the loop ends.
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        // A job that arrives after shutdown (an actor method called after close) still runs,
        // on a thread that ends again when the queue is empty.
        if !threadRunning { startThread() }
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread finish once the jobs already queued have run.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                threadRunning = false
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}
