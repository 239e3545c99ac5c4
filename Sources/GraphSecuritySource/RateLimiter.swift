/// A token bucket: at most `capacity` requests at once, refilled at `perMinute / 60` per second.
/// Shared by every endpoint of one tenant, so the collector stays under Graph's documented
/// 150 requests per minute per app per tenant for security alerts, instead of provoking 429s.
actor RateLimiter {
    let perMinute: Double
    let capacity: Double
    private var tokens: Double
    private var last = ContinuousClock.now
    private var pausedUntil: ContinuousClock.Instant?

    init(perMinute: Int, burst: Int? = nil) {
        self.perMinute = Double(max(1, perMinute))
        self.capacity = Double(max(1, burst ?? min(perMinute, 10)))
        self.tokens = capacity
    }

    /// Waits for a token.
    func acquire() async throws {
        while true {
            if let pausedUntil, ContinuousClock.now < pausedUntil {
                try await Task.sleep(until: pausedUntil, clock: .continuous)
                continue
            }
            let now = ContinuousClock.now
            let elapsed = now - last
            last = now
            tokens = min(capacity, tokens + seconds(elapsed) * perMinute / 60)
            if tokens >= 1 {
                tokens -= 1
                return
            }
            let wait = (1 - tokens) * 60 / perMinute
            try await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 1))
        }
    }

    /// Holds every request of the tenant back (after a 429 with Retry-After).
    func pause(for duration: Duration) {
        let until = ContinuousClock.now + duration
        if pausedUntil == nil || pausedUntil! < until { pausedUntil = until }
        tokens = 0
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
