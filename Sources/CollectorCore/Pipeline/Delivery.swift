import Synchronization

/// Tells a source when the events of one ``EventPublisher/publish(_:)`` call have been
/// accepted by every required sink, so that it can move its checkpoint past them.
public struct DeliveryReceipt: Sendable {
    let state: ReceiptState

    init(state: ReceiptState) { self.state = state }

    /// A receipt for nothing: already complete.
    public static var empty: DeliveryReceipt {
        DeliveryReceipt(state: ReceiptState(requiredSinks: [], eventCount: 0))
    }

    /// Waits until every required sink has accepted or rejected the events, or the pipeline has
    /// stopped without delivering them. If the waiting task is cancelled it returns at once,
    /// with the sinks still working counted as undelivered (so the report is not complete).
    public func delivered() async -> DeliveryReport {
        await state.wait()
    }

    /// The report so far, without waiting; nil while sinks are still working.
    public var currentReport: DeliveryReport? { state.report }
}

/// How one published batch fared across the required sinks.
public struct DeliveryReport: Sendable, Hashable {
    public var eventCount: Int
    /// Required sinks that accepted every event.
    public var acceptedBy: Set<String>
    /// Required sinks that rejected the events permanently, with the reason. The events are
    /// not retried; they are reported (and, with a dead-letter store, kept there).
    public var rejectedBy: [String: String]
    /// Required sinks that had not accepted the events when the pipeline stopped.
    public var undeliveredBy: Set<String>

    /// True when no required sink is still missing the events: the source may checkpoint past
    /// them. Rejected events count as handled, so that one poisonous event cannot stall a feed.
    public var isComplete: Bool { undeliveredBy.isEmpty }
}

final class ReceiptState: Sendable {
    private struct Inner {
        var pending: Set<String>
        var report: DeliveryReport
        var waiters: [Int: CheckedContinuation<DeliveryReport, Never>] = [:]
        var nextWaiter = 0

        /// The report as it stands, with the sinks still working as undelivered.
        var incomplete: DeliveryReport {
            var r = report
            r.undeliveredBy.formUnion(pending)
            return r
        }
    }

    private let inner: Mutex<Inner>

    init(requiredSinks: Set<String>, eventCount: Int) {
        inner = Mutex(
            Inner(
                pending: requiredSinks,
                report: DeliveryReport(eventCount: eventCount, acceptedBy: [], rejectedBy: [:], undeliveredBy: [])))
    }

    var report: DeliveryReport? {
        inner.withLock { $0.pending.isEmpty ? $0.report : nil }
    }

    func accepted(by sink: String) { settle(sink) { $0.acceptedBy.insert(sink) } }
    func rejected(by sink: String, reason: String) { settle(sink) { $0.rejectedBy[sink] = reason } }
    func undelivered(by sink: String) { settle(sink) { $0.undeliveredBy.insert(sink) } }

    private func settle(_ sink: String, _ update: (inout DeliveryReport) -> Void) {
        let (waiters, report) = inner.withLock {
            inner -> ([CheckedContinuation<DeliveryReport, Never>], DeliveryReport) in
            guard inner.pending.remove(sink) != nil else { return ([], inner.report) }
            update(&inner.report)
            guard inner.pending.isEmpty else { return ([], inner.report) }
            let w = Array(inner.waiters.values)
            inner.waiters = [:]
            return (w, inner.report)
        }
        for w in waiters { w.resume(returning: report) }
    }

    func wait() async -> DeliveryReport {
        let id = inner.withLock { inner -> Int in
            inner.nextWaiter += 1
            return inner.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<DeliveryReport, Never>) in
                let ready: DeliveryReport? = inner.withLock { inner in
                    if inner.pending.isEmpty { return inner.report }
                    // Cancelled before waiting: the handler below found nothing to resume.
                    if Task.isCancelled { return inner.incomplete }
                    inner.waiters[id] = c
                    return nil
                }
                if let ready { c.resume(returning: ready) }
            }
        } onCancel: {
            let (waiter, report) = inner.withLock { inner in (inner.waiters.removeValue(forKey: id), inner.incomplete) }
            waiter?.resume(returning: report)
        }
    }
}
