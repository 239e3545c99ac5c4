/// A token bucket: at most `capacity` requests at once, refilled at `perMinute / 60` per second;
/// and never more than `perMinute` requests in any 61 seconds (a bucket alone lets the first
/// minute carry its burst on top, which a server counting per minute answers with 429; the extra
/// second absorbs network jitter). The Graph source shares one per tenant, so the collector stays
/// under Graph's documented 150 requests per minute per app per tenant; the webhook sink uses one
/// for its `rate_limit`.
package actor RateLimiter {
    package let perMinute: Double
    package let capacity: Double
    private var tokens: Double
    private var last = ContinuousClock.now
    private var pausedUntil: ContinuousClock.Instant?
    /// When the last `perMinute` requests were let through, oldest first (a ring).
    private var recent: [ContinuousClock.Instant] = []
    private var oldest = 0
    private let window: Duration

    /// `window` is the span in which at most `perMinute` requests go (61 s; tests shorten it).
    package init(perMinute: Int, burst: Int? = nil, window: Duration = .seconds(61)) {
        self.window = window
        self.perMinute = Double(max(1, perMinute))
        self.capacity = Double(max(1, burst ?? min(perMinute, 10)))
        self.tokens = capacity
    }

    /// Waits for a token.
    package func acquire() async throws {
        while true {
            if let pausedUntil, ContinuousClock.now < pausedUntil {
                try await Task.sleep(until: pausedUntil, clock: .continuous)
                continue
            }
            let now = ContinuousClock.now
            if recent.count >= Int(perMinute), recent[oldest] + window > now {
                try await Task.sleep(until: recent[oldest] + window, clock: .continuous)
                continue
            }
            let elapsed = now - last
            last = now
            tokens = min(capacity, tokens + seconds(elapsed) * perMinute / 60)
            if tokens >= 1 {
                tokens -= 1
                if recent.count < Int(perMinute) {
                    recent.append(now)
                } else {
                    recent[oldest] = now
                    oldest = (oldest + 1) % recent.count
                }
                return
            }
            let wait = (1 - tokens) * 60 / perMinute
            try await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 1))
        }
    }

    /// Holds every request of the tenant back (after a 429 with Retry-After).
    package func pause(for duration: Duration) {
        let until = ContinuousClock.now + duration
        if pausedUntil == nil || pausedUntil! < until { pausedUntil = until }
        tokens = 0
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
