import DequeModule
import Synchronization

/// A token bucket: at most `capacity` requests at once, refilled at `perMinute / 60` per second;
/// and never more than `perMinute` requests in any 61 seconds (a bucket alone lets the first
/// minute carry its burst on top, which a server counting per minute answers with 429; the extra
/// second absorbs network jitter). The Graph source shares one per tenant, so the collector stays
/// under Graph's documented 150 requests per minute per app per tenant; the webhook sink uses one
/// for its `rate_limit`.
///
/// The window counts a request from the moment it leaves, not from its permit: a request may
/// wait after its permit (for a page place, for a connection, for libcurl to learn whether a
/// connection multiplexes), and one that left 1.3 s late once made the 151st of a server's
/// minute. ``sent(_:)`` moves a permit's time to when its request went out; a permit never
/// reported counts from when it was given. One that waits longer than the window after its
/// permit (a page place while the sinks are far behind) may still go with a full window's
/// worth, since its request was not known to be coming; the collector is far under its rate
/// then.
package final class RateLimiter: Sendable {
    /// One request let through, to report with ``sent(_:)`` when it goes out.
    package struct Permit: Sendable, Hashable {
        let id: UInt64
    }

    private struct State {
        var tokens: Double
        var last = ContinuousClock.now
        var pausedUntil: ContinuousClock.Instant?
        var recent: RequestWindow
        var nextID: UInt64 = 0
    }

    private enum Decision {
        case go(Permit)
        case wait(until: ContinuousClock.Instant)
    }

    package let perMinute: Double
    package let capacity: Double
    private let state: Mutex<State>

    /// `window` is the span in which at most `perMinute` requests go (61 s; tests shorten it).
    package init(perMinute: Int, burst: Int? = nil, window: Duration = .seconds(61)) {
        self.perMinute = Double(max(1, perMinute))
        self.capacity = Double(max(1, burst ?? min(perMinute, 10)))
        state = Mutex(State(tokens: capacity, recent: RequestWindow(limit: max(1, perMinute), length: window)))
    }

    /// Waits for a permit. Throws `CancellationError` when the task is cancelled meanwhile.
    @discardableResult
    package func acquire() async throws -> Permit {
        while true {
            switch state.withLock({ decide(&$0, now: .now) }) {
            case .go(let permit): return permit
            case .wait(let until): try await Task.sleep(until: until, clock: .continuous)
            }
        }
    }

    /// The permit's request went out now: the window counts it from here. Safe from any thread
    /// (libcurl's calls it from its engine's).
    package func sent(_ permit: Permit) {
        state.withLock { $0.recent.sent(permit.id, at: .now) }
    }

    /// Holds every request of the tenant back (after a 429 with Retry-After).
    package func pause(for duration: Duration) {
        let until = ContinuousClock.now + duration
        state.withLock { s in
            if s.pausedUntil == nil || s.pausedUntil! < until { s.pausedUntil = until }
            // No refill while paused: the requests held back resume at the rate, not in a burst.
            s.tokens = 0
            s.last = max(s.last, until)
        }
    }

    private func decide(_ s: inout State, now: ContinuousClock.Instant) -> Decision {
        if let pausedUntil = s.pausedUntil, now < pausedUntil { return .wait(until: pausedUntil) }
        if let opens = s.recent.opens(at: now) { return .wait(until: opens) }
        s.tokens = min(capacity, s.tokens + seconds(now - s.last) * perMinute / 60)
        s.last = now
        guard s.tokens >= 1 else {
            let wait = (1 - s.tokens) * 60 / perMinute
            return .wait(until: now + .milliseconds(Int64(wait * 1000) + 1))
        }
        s.tokens -= 1
        s.nextID += 1
        s.recent.record(s.nextID, at: now)
        return .go(Permit(id: s.nextID))
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// The latest `limit` requests of a ``RateLimiter``, each at the time it went out (or got its
/// permit, until it is reported sent): a new one may go once the earliest of them is `length`
/// old. Oldest first: every time entered is the current one, so the order is the times' order,
/// and a request reported sent moves to the end.
package struct RequestWindow: Sendable {
    package let limit: Int
    package let length: Duration
    private var requests: Deque<(id: UInt64, at: ContinuousClock.Instant)> = []

    package init(limit: Int, length: Duration) {
        self.limit = max(1, limit)
        self.length = length
    }

    /// Requests kept (at most `limit`).
    package var count: Int { requests.count }

    /// When a request may go, if not at `now`.
    package func opens(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard requests.count >= limit, let earliest = requests.first else { return nil }
        return earliest.at + length > now ? earliest.at + length : nil
    }

    /// A request let through at `now` (no earlier than any kept); it takes the earliest one's
    /// place once `limit` are kept.
    package mutating func record(_ id: UInt64, at now: ContinuousClock.Instant) {
        if requests.count >= limit { requests.removeFirst() }
        requests.append((id, now))
    }

    /// Request `id` went out at `now` (no earlier than any kept): it moves to the end. One whose
    /// place later requests took while it waited still counts, in the earliest one's place.
    package mutating func sent(_ id: UInt64, at now: ContinuousClock.Instant) {
        // From the newest: a request is usually reported soon after its permit.
        if let index = requests.lastIndex(where: { $0.id == id }) {
            guard requests[index].at < now else { return }
            requests.remove(at: index)
            requests.append((id, now))
        } else if requests.count >= limit, let earliest = requests.first, earliest.at < now {
            record(id, at: now)
        }
    }
}
