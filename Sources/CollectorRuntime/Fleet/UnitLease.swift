import CollectorCore
import Synchronization

/// One tenant this instance owns: the lease's revision, until when this instance may still act
/// on it, and the work collecting it.
final class UnitLease: Sendable {
    let key: String
    let unit: String
    /// What the lease holds while this instance owns it (written again at each renewal).
    let value: [UInt8]
    /// Requested when the tenant goes elsewhere, its lease is lost, or the source stops.
    let stop: StopRequest

    private struct State {
        var revision: UInt64
        var renewedAt: ContinuousClock.Instant
        var validUntil: ContinuousClock.Instant
        var task: Task<Void, Never>?
        var done = false
        var error: (any Error)?
        var lost = false
    }

    private let state: Mutex<State>
    let ttl: Duration

    /// A lease written at revision `revision` by a request sent at `sent`: the server expires it
    /// no sooner than `ttl` after that, and this instance stops acting on it after half of it.
    init(
        key: String, unit: String, value: [UInt8], revision: UInt64, sent: ContinuousClock.Instant, ttl: Duration,
        stop: StopRequest
    ) {
        self.key = key
        self.unit = unit
        self.value = value
        self.stop = stop
        self.ttl = ttl
        state = Mutex(State(revision: revision, renewedAt: sent, validUntil: sent + ttl / 2))
    }

    var revision: UInt64 { state.withLock { $0.revision } }
    var isDone: Bool { state.withLock { $0.done } }
    var error: (any Error)? { state.withLock { $0.error } }
    var isLost: Bool { state.withLock { $0.lost } }

    /// True while this instance may still write for the tenant (checkpoints).
    var isValid: Bool { state.withLock { !$0.lost && ContinuousClock.now < $0.validUntil } }

    /// Renewals go out every sixth of the TTL: two may fail before the lease stops being valid
    /// here (at half the TTL).
    var isDueForRenewal: Bool { state.withLock { ContinuousClock.now - $0.renewedAt >= ttl / 6 } }

    var validUntil: ContinuousClock.Instant { state.withLock { $0.validUntil } }

    func renewed(revision: UInt64, sent: ContinuousClock.Instant) {
        state.withLock { s in
            s.revision = revision
            s.renewedAt = sent
            s.validUntil = sent + ttl / 2
        }
    }

    /// This instance may no longer act on the tenant: its work stops. `now`: another instance
    /// wrote the lease or the checkpoint, so it may be collecting already; the work is cancelled
    /// at once, requests in flight included.
    func lose(now: Bool = false) {
        state.withLock { $0.lost = true }
        stop.request()
        if now { cancelWork() }
    }

    func started(_ task: Task<Void, Never>) {
        let cancel = state.withLock { s -> Bool in
            s.task = task
            return s.done
        }
        if cancel { task.cancel() }
    }

    func finished(error: (any Error)?) {
        state.withLock { s in
            s.done = true
            s.error = error
        }
    }

    func cancelWork() { state.withLock { $0.task }?.cancel() }

    /// Waits for the work to return.
    func wait() async { await state.withLock { $0.task }?.value }
}
