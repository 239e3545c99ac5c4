import Foundation

/// When a sink's worker hands a batch to the sink: as soon as one limit is reached.
public struct BatchPolicy: Sendable, Hashable, Decodable {
    /// Most events in one `write`.
    public var maxEvents: Int
    /// Most bytes (estimated from the events' JSON size) in one `write`. One event larger than
    /// this is still sent, alone.
    public var maxBytes: ByteSize
    /// Longest time the first event of a batch waits for more.
    public var maxDelay: ConfigDuration

    public init(maxEvents: Int = 500, maxBytes: ByteSize = .mebibytes(1), maxDelay: ConfigDuration = .seconds(1)) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.maxDelay = maxDelay
    }

    enum CodingKeys: String, CodingKey {
        case maxEvents = "max_events"
        case maxBytes = "max_bytes"
        case maxDelay = "max_delay"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BatchPolicy()
        maxEvents = try c.decodeIfPresent(Int.self, forKey: .maxEvents) ?? d.maxEvents
        maxBytes = try c.decodeIfPresent(ByteSize.self, forKey: .maxBytes) ?? d.maxBytes
        maxDelay = try c.decodeIfPresent(ConfigDuration.self, forKey: .maxDelay) ?? d.maxDelay
        guard maxEvents >= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .maxEvents, in: c, debugDescription: "must be at least 1")
        }
    }
}

/// How the pipeline retries a sink's retryable failures: exponential backoff with full jitter
/// (a random wait between zero and `min(max_delay, initial_delay × multiplier^attempt)`), so
/// that many collectors recovering at once do not hammer a receiver in step.
public struct RetryPolicy: Sendable, Hashable, Decodable {
    public var initialDelay: ConfigDuration
    public var maxDelay: ConfigDuration
    public var multiplier: Double

    public init(
        initialDelay: ConfigDuration = .seconds(0.5), maxDelay: ConfigDuration = .seconds(30), multiplier: Double = 2
    ) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
    }

    enum CodingKeys: String, CodingKey {
        case initialDelay = "initial_delay"
        case maxDelay = "max_delay"
        case multiplier
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RetryPolicy()
        initialDelay = try c.decodeIfPresent(ConfigDuration.self, forKey: .initialDelay) ?? d.initialDelay
        maxDelay = try c.decodeIfPresent(ConfigDuration.self, forKey: .maxDelay) ?? d.maxDelay
        multiplier = try c.decodeIfPresent(Double.self, forKey: .multiplier) ?? d.multiplier
        guard multiplier >= 1, multiplier <= 100 else {
            throw DecodingError.dataCorruptedError(
                forKey: .multiplier, in: c, debugDescription: "must be from 1 to 100")
        }
    }

    /// The upper bound of the wait before retry number `attempt` (1-based).
    public func ceiling(forAttempt attempt: Int) -> Double {
        let exponent = Double(max(0, attempt - 1))
        return min(maxDelay.seconds, initialDelay.seconds * pow(multiplier, min(exponent, 64)))
    }

    /// A random wait for retry number `attempt`, uniformly between zero and the ceiling.
    public func delay(forAttempt attempt: Int) -> Duration {
        let upper = ceiling(forAttempt: attempt)
        return .milliseconds(Int64(Double.random(in: 0...max(upper, 0.001)) * 1000))
    }
}
