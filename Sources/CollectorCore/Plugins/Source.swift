public import Logging

/// Where events come from: the Graph Security API, a recording, a generator.
///
/// A source publishes batches to an ``EventPublisher`` and may wait for each batch's
/// ``DeliveryReceipt`` before it moves its checkpoint: that is how a source never skips past
/// events that the sinks have not accepted. Sources know nothing of sinks.
public protocol Source: Sendable {
    /// Runs until the work is done (a finite source), ``SourceContext/stop`` is requested (graceful
    /// shutdown: return once what was published is accepted and checkpointed), or the task is
    /// cancelled. Throwing stops the collector with the error.
    func run(publisher: any EventPublisher) async throws
}

/// Accepts events from sources. Implemented by ``EventPipeline``; a test can supply its own.
public protocol EventPublisher: Sendable {
    /// Hands events to every sink's queue, waiting while the queues are full (backpressure).
    /// The receipt tells when every sink has accepted them.
    func publish(_ events: [Event]) async throws -> DeliveryReceipt
    /// The same, in the given lane: ``PublishLane/bulk`` events (a backfill) make way for
    /// ``PublishLane/regular`` ones (new alerts of a poll).
    func publish(_ events: [Event], lane: PublishLane) async throws -> DeliveryReceipt
    /// Waits until every sink queue that makes publications wait could take `count` more
    /// publications of `events` events of `bytes` (their ``Event/approximateByteCount``) in
    /// `lane` at once; or as many as leave room for one more in a queue too small for `count`,
    /// at least one. A source asks before it fetches what it will publish, so that while the
    /// sinks are behind it holds what their queues can take, not that and what each of its
    /// requests brought on top.
    func waitForRoom(publications count: Int, events: Int, bytes: Int, lane: PublishLane) async
}

extension EventPublisher {
    /// A publisher without lanes publishes every lane's events alike.
    public func publish(_ events: [Event], lane: PublishLane) async throws -> DeliveryReceipt {
        try await publish(events)
    }

    /// A publisher that does not say: room at once (its ``publish(_:lane:)`` still waits).
    public func waitForRoom(publications count: Int, events: Int, bytes: Int, lane: PublishLane) async {}
}

/// Which of a sink queue's two lanes a publication takes.
///
/// Sinks take regular publications before bulk ones, and a regular publication finds room (up
/// to a quarter of the queue again) when bulk ones have filled the queue; it does not go behind
/// a spool of bulk events either. So one tenant's backfill does not delay another tenant's new
/// alerts. Within a lane, order is kept; across lanes, a regular event may overtake a bulk one.
public enum PublishLane: Sendable, Hashable {
    /// New events of a regular poll: the default.
    case regular
    /// A backfill or other catch-up, which should not hold up regular events.
    case bulk
}

/// A kind of source that configuration can name with `type:`. See ``SinkPlugin``.
public protocol SourcePlugin: SendableMetatype {
    associatedtype Configuration: Decodable & Sendable
    static var type: String { get }
    static var summary: String { get }
    static var options: [PluginOption] { get }
    static func makeSource(configuration: Configuration, context: SourceContext) async throws -> any Source
}

extension SourcePlugin {
    public static var options: [PluginOption] { [] }
}

/// A plugin configuration that is valid but worth a warning (a retired endpoint, say):
/// `validate`, `test` and `run` print each piece of advice with the entry's file and line.
public protocol ConfigurationAdvice {
    var advice: [String] { get }
}

/// What a source is told about its place in the collector.
public struct SourceContext: Sendable {
    /// The source's configured name, unique among sources.
    public var name: String
    public var logger: Logger
    /// A directory for this source's checkpoints, created on demand.
    public var stateDirectory: String
    public var configurationDirectory: String
    /// Services the runtime started for this run, by name → base URL (for example a local stand-in
    /// for the API a source reads, started from the configuration).
    public var services: [String: String]
    /// Where the source reports its polls, watermarks and warnings (see ``SourceStreamStatus``).
    public var status: SourceStatusBoard
    /// Set when the collector shuts down gracefully: finish what is in flight and return.
    public var stop: StopRequest
    /// Set when collectors share their tenants (`coordination:`): collect only the tenants this
    /// instance owns, with their checkpoints where the fleet keeps them.
    public var coordination: (any SourceCoordination)?

    public init(
        name: String, logger: Logger, stateDirectory: String, configurationDirectory: String,
        services: [String: String] = [:],
        status: SourceStatusBoard? = nil, stop: StopRequest = StopRequest(),
        coordination: (any SourceCoordination)? = nil
    ) {
        self.coordination = coordination
        self.status = status ?? SourceStatusBoard(source: name)
        self.stop = stop
        self.name = name
        self.logger = logger
        self.stateDirectory = stateDirectory
        self.configurationDirectory = configurationDirectory
        self.services = services
    }
}

/// The collector's version, for `version`, the User-Agent and build information.
public enum CollectorVersion {
    public static let current = "0.2.0"
}
