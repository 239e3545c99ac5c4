public import CollectorCore
internal import Synchronization

/// A sink that keeps what it is given, for tests: the `InMemoryLogHandler` of this project.
///
/// Script failures to test a pipeline's retries: `failNext(2, .retryable)` makes the next two
/// writes throw a retryable ``SinkError``.
public actor InMemorySink: Sink {
    public enum Failure: Sendable { case retryable, permanent }

    public private(set) var batches: [[Event]] = []
    public private(set) var flushCount = 0
    public private(set) var closed = false
    public private(set) var writeAttempts = 0
    private var scriptedFailures: [Failure] = []
    private var alwaysFail: Failure?
    private var delay: Duration?

    public init() {}

    /// Every event accepted, in order.
    public var events: [Event] { batches.flatMap { $0 } }

    /// The next `count` writes fail with the given kind of error.
    public func failNext(_ count: Int, _ failure: Failure) {
        if count > 1_000_000 {
            alwaysFail = failure
        } else {
            scriptedFailures += Array(repeating: failure, count: count)
        }
    }

    /// Scripted failures end: the receiver is back.
    public func recover() {
        alwaysFail = nil
        scriptedFailures = []
    }

    /// Every write takes this long (a slow receiver).
    public func setDelay(_ delay: Duration?) { self.delay = delay }

    private var paused = false
    private var pausedWriters: [CheckedContinuation<Void, Never>] = []

    /// Writes wait until ``resume()``: a receiver that is stuck, deterministically.
    public func pause() { paused = true }

    public func resume() {
        paused = false
        let waiting = pausedWriters
        pausedWriters = []
        for w in waiting { w.resume() }
    }

    public func write(_ batch: [Event]) async throws {
        writeAttempts += 1
        precondition(!closed, "write after close")
        while paused { await withCheckedContinuation { pausedWriters.append($0) } }
        if let delay { try await Task.sleep(for: delay) }
        if let failure = alwaysFail ?? (scriptedFailures.isEmpty ? nil : scriptedFailures.removeFirst()) {
            switch failure {
            case .retryable: throw SinkError.retryable("scripted failure")
            case .permanent: throw SinkError.permanent("scripted rejection")
            }
        }
        batches.append(batch)
    }

    public func flush() async throws { flushCount += 1 }
    public func close() async throws { closed = true }

    /// A plugin (`type: memory`) whose sinks are kept in ``InMemorySink/Plugin/store`` by the
    /// configured `key`, so a test can configure a collector and then look at what it got.
    public enum Plugin: SinkPlugin {
        public struct Configuration: Decodable, Sendable {
            public var key: String
            /// Every write fails with a retryable error (a receiver that is down).
            public var failWrites: Bool
            enum CodingKeys: String, CodingKey {
                case key
                case failWrites = "fail_writes"
            }
            public init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                key = try c.decode(String.self, forKey: .key)
                failWrites = try c.decodeIfPresent(Bool.self, forKey: .failWrites) ?? false
            }
        }

        public static let type = "memory"
        public static let summary = "Keeps events in memory (tests)"
        public static let options = [
            PluginOption("key", type: "string", default: nil, "name under which the test finds the sink"),
            PluginOption("fail_writes", type: "boolean", default: "false", "every write fails with a retryable error"),
        ]

        static let store = Mutex<[String: InMemorySink]>([:])

        public static func sink(forKey key: String) -> InMemorySink? { store.withLock { $0[key] } }

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            let sink = InMemorySink()
            if configuration.failWrites { await sink.failNext(Int.max / 2, .retryable) }
            store.withLock { $0[configuration.key] = sink }
            return sink
        }
    }
}

/// Records published events and answers with completed receipts: an `EventPublisher` for
/// testing sources without a pipeline.
public actor RecordingPublisher: EventPublisher {
    public private(set) var published: [[Event]] = []
    /// The lane of each publication in ``published``.
    public private(set) var lanes: [PublishLane] = []
    public init() {}
    public var events: [Event] { published.flatMap { $0 } }

    public func publish(_ events: [Event]) async throws -> DeliveryReceipt {
        try await publish(events, lane: .regular)
    }

    public func publish(_ events: [Event], lane: PublishLane) async throws -> DeliveryReceipt {
        published.append(events)
        lanes.append(lane)
        return .empty
    }
}
