public import CollectorCore
import CollectorSystem
import Logging

/// `type: synthetic`: publishes generated alerts (``AlertGenerator``) through the same
/// normalization as real Graph pages. For trying sinks, load tests and crash tests: with
/// `resume: true` it checkpoints the next item after every acknowledged batch, so a killed and
/// restarted collector continues where the sinks' acknowledgements left it.
public struct SyntheticSource: Source {
    public struct Configuration: Decodable, Sendable {
        public var count: Int
        public var batchSize: Int
        public var seed: UInt64
        public var tenantId: String
        public var start: Timestamp?
        public var resume: Bool
        /// Batches published before waiting for the oldest receipt.
        public var inFlightBatches: Int

        enum CodingKeys: String, CodingKey {
            case count
            case batchSize = "batch_size"
            case seed
            case tenantId = "tenant_id"
            case start, resume
            case inFlightBatches = "in_flight_batches"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            count = try c.decodeIfPresent(Int.self, forKey: .count) ?? 1000
            batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? 500
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
            tenantId = try c.decodeIfPresent(String.self, forKey: .tenantId) ?? "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c"
            start = try c.decodeIfPresent(Timestamp.self, forKey: .start)
            resume = try c.decodeIfPresent(Bool.self, forKey: .resume) ?? true
            inFlightBatches = try c.decodeIfPresent(Int.self, forKey: .inFlightBatches) ?? 4
            guard count >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .count, in: c, debugDescription: "must not be negative")
            }
            guard (1...GraphEndpoint.alertsV2.maximumPageSize).contains(batchSize) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .batchSize, in: c, debugDescription: "must be between 1 and 1000")
            }
            guard inFlightBatches >= 1 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .inFlightBatches, in: c, debugDescription: "must be at least 1")
            }
        }
    }

    public enum Plugin: SourcePlugin {
        public static let type = "synthetic"
        public static let summary = "Generated alerts_v2-shaped alerts, for trying sinks and load tests"
        public static let options: [PluginOption] = [
            PluginOption("count", type: "integer", default: "1000", "how many alerts to publish"),
            PluginOption(
                "batch_size", type: "integer", default: "500", "alerts per published batch (1-1000, like a Graph page)"),
            PluginOption("seed", type: "integer", default: "1", "generator seed; the same seed gives the same alerts"),
            PluginOption(
                "tenant_id", type: "string", default: "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c",
                "tenantId written into the alerts"),
            PluginOption(
                "start", type: "RFC 3339 time", default: "now minus one day", "createdDateTime of the first alert"),
            PluginOption(
                "resume", type: "boolean", default: "true", "checkpoint progress and continue from it after a restart"),
            PluginOption(
                "in_flight_batches", type: "integer", default: "4",
                "batches published before waiting for the oldest to be acknowledged"),
        ]

        public static func makeSource(configuration: Configuration, context: SourceContext) async throws -> any Source {
            SyntheticSource(configuration: configuration, context: context)
        }
    }

    let configuration: Configuration
    let context: SourceContext

    public init(configuration: Configuration, context: SourceContext) {
        self.configuration = configuration
        self.context = context
    }

    var checkpointPath: String { "\(context.stateDirectory)/synthetic.checkpoint.json" }

    public func run(publisher: any EventPublisher) async throws {
        let store = CheckpointFile(path: checkpointPath)
        var state = (configuration.resume ? try await store.load() : nil) ?? .object([])
        let startText = state["start"]?.stringValue
        let start =
            configuration.start ?? startText.flatMap(Timestamp.init(iso8601:))
            ?? Timestamp.now().adding(seconds: -86_400)
        let generator = AlertGenerator(seed: configuration.seed, tenantId: configuration.tenantId, start: start)
        var next = configuration.resume ? (state["next"]?.intValue ?? 0) : 0
        if next > 0 {
            context.logger.info(
                "resuming from checkpoint", metadata: ["source": "\(context.name)", "next_alert": "\(next)"])
        }
        var inFlight: [(DeliveryReceipt, Int)] = []

        func settleOldest() async throws {
            let (receipt, end) = inFlight.removeFirst()
            let report = await receipt.delivered()
            guard report.isComplete else {
                throw SourceStopped(
                    reason: "sinks did not accept alerts up to #\(end); stopping without checkpointing past them")
            }
            if configuration.resume {
                state = ["start": .string(start.iso8601()), "next": .number(String(end))]
                try await store.save(state)
            }
        }

        while next < configuration.count {
            try Task.checkCancellation()
            if context.stop.isRequested {
                // Graceful shutdown: checkpoint what the sinks accept of what is in flight.
                while !inFlight.isEmpty { try await settleOldest() }
                context.logger.info(
                    "stopped for shutdown", metadata: ["source": "\(context.name)", "next_alert": "\(next)"])
                return
            }
            let end = min(next + configuration.batchSize, configuration.count)
            var events: [Event] = []
            events.reserveCapacity(end - next)
            for n in next..<end {
                events.append(.alert(try GraphNormalizer.normalize(generator.alert(n), endpoint: .alertsV2)))
            }
            inFlight.append((try await publisher.publish(events), end))
            context.status.update(stream: "alerts_v2") { s in
                s.lastPollAt = .now()
                s.lastPollResult = .complete
                s.lastSuccessAt = s.lastPollAt
                s.eventsPublished += events.count
            }
            next = end
            if inFlight.count >= configuration.inFlightBatches { try await settleOldest() }
        }
        while !inFlight.isEmpty { try await settleOldest() }
        context.logger.info(
            "synthetic source finished", metadata: ["source": "\(context.name)", "alerts": "\(configuration.count)"])
    }
}

/// A source stopped on purpose; the message says why.
public struct SourceStopped: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// A JSON checkpoint file written atomically on one of the shared checkpoint threads
/// (``ExecutorPool/checkpoints``): a thousand tenants' checkpoints cost four threads, not a thousand.
package actor CheckpointFile: CheckpointStorage {
    private let executor: DedicatedThreadExecutor
    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    package let path: String
    package nonisolated var location: String { path }

    package init(path: String) {
        self.path = path
        executor = ExecutorPool.checkpoints.executor(for: path)
    }

    package func load() throws -> JSONValue? {
        guard let bytes = try AtomicFile.read(path) else { return nil }
        do {
            return try JSONParser.parse(bytes: bytes)
        } catch {
            throw SourceStopped(reason: "checkpoint '\(path)' is damaged (\(error)); move it away to start over")
        }
    }

    package func save(_ value: JSONValue) throws {
        try FileSystem.makeDirectories(FileSystem.directoryName(of: path))
        var writer = JSONWriter()
        writer.write(value)
        writer.bytes.append(0x0A)
        try AtomicFile.write(writer.bytes, to: path)
    }
}
