public import CollectorConfig
public import CollectorCore
public import Logging

/// The top-level settings of a configuration file (everything but `sources` and `sinks`).
public struct CollectorSettings: Sendable, Decodable {
    /// Where checkpoints and sink state live; relative to the main configuration file.
    public var stateDirectory: String
    public var logging: LoggingSettings
    public var pipeline: PipelineSettings
    /// Files (or glob patterns) whose `sources` and `sinks` are added to this file's.
    public var include: [String]
    /// Start the built-in Graph simulator for this run (sources reach it with `cloud: simulator`).
    package var simulator: SimulatorSettings?
    /// Serve `/metrics` (Prometheus text) and `/healthz` on this `host:port` (loopback by default).
    public var metricsListen: (host: String, port: UInt16)?
    /// `coordination:` share the sources' tenants with other instances through NATS.
    public var coordination: FleetSettings?

    public init() {
        stateDirectory = "state"
        logging = LoggingSettings()
        pipeline = PipelineSettings()
        include = []
        simulator = nil
    }

    enum CodingKeys: String, CodingKey {
        case stateDirectory = "state_directory"
        case logging, pipeline, include, sources, sinks, simulator, metrics, coordination
    }

    enum MetricsKeys: String, CodingKey { case listen }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CollectorSettings()
        stateDirectory = try c.decodeIfPresent(String.self, forKey: .stateDirectory) ?? d.stateDirectory
        logging = try c.decodeIfPresent(LoggingSettings.self, forKey: .logging) ?? d.logging
        pipeline = try c.decodeIfPresent(PipelineSettings.self, forKey: .pipeline) ?? d.pipeline
        include = try c.decodeIfPresent([String].self, forKey: .include) ?? []
        simulator = try c.decodeIfPresent(SimulatorSettings.self, forKey: .simulator)
        coordination = try c.decodeIfPresent(FleetSettings.self, forKey: .coordination)
        if c.contains(.metrics) {
            let m = try c.nestedContainer(keyedBy: MetricsKeys.self, forKey: .metrics)
            let text = try m.decode(String.self, forKey: .listen)
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .listen, in: m, debugDescription: "'\(text)' is not host:port, like 127.0.0.1:9464")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            metricsListen = (host.isEmpty ? "127.0.0.1" : host, port)
        }
        // Read separately, entry by entry; named here so they are known keys.
        _ = c.contains(.sources)
        _ = c.contains(.sinks)
    }
}

public struct LoggingSettings: Sendable, Decodable {
    public enum Format: String, Sendable, Decodable, CaseIterable {
        /// One human-readable line per message.
        case text
        /// One JSON object per line, for log shippers.
        case json
    }

    public var level: Logger.Level
    public var format: Format

    public init(level: Logger.Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }

    enum CodingKeys: String, CodingKey { case level, format }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.decodeIfPresent(Logger.Level.self, forKey: .level) ?? .info
        format = try c.decodeIfPresent(Format.self, forKey: .format) ?? .text
    }
}

public struct PipelineSettings: Sendable, Decodable {
    /// On shutdown, how long sinks may keep retrying what is queued before the rest is left
    /// for the sources to collect again.
    public var drainTimeout: ConfigDuration

    public init(drainTimeout: ConfigDuration = .seconds(30)) {
        self.drainTimeout = drainTimeout
    }

    enum CodingKeys: String, CodingKey { case drainTimeout = "drain_timeout" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        drainTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .drainTimeout) ?? .seconds(30)
    }
}

/// The keys every sink entry has besides its plugin's own: its type and name, how the pipeline
/// feeds it (``SinkDeliverySettings``), and where it keeps what it cannot deliver.
public struct SinkCommonSettings: Sendable, Decodable {
    public var type: String
    public var name: String
    public var delivery: SinkDeliverySettings
    /// Keep permanently rejected events in `<state>/sinks/<name>/deadletter.ndjson`.
    public var deadLetters: Bool
    /// The durable spool's size limit (`<state>/sinks/<name>/spool/`); nil: no spool.
    public var spoolMaxSize: ByteSize?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, name
        case deadLetters = "dead_letters"
        case spoolMaxSize = "spool_max_size"
    }

    /// Every key a sink entry takes besides its plugin's options.
    public static var keys: [String] {
        ["type", "name"] + SinkDeliverySettings.keys + ["dead_letters", "spool_max_size"]
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? type
        delivery = try SinkDeliverySettings(from: decoder)
        deadLetters = try c.decodeIfPresent(Bool.self, forKey: .deadLetters) ?? true
        spoolMaxSize = try c.decodeIfPresent(ByteSize.self, forKey: .spoolMaxSize)
        if let size = spoolMaxSize, size.bytes == 0 { spoolMaxSize = nil }
        if let size = spoolMaxSize, size.bytes < 1 << 20 {
            throw DecodingError.dataCorruptedError(
                forKey: .spoolMaxSize, in: c, debugDescription: "a spool needs at least 1MiB (or 0 for none)")
        }
        if spoolMaxSize != nil && delivery.whenFull == .dropNewest {
            throw DecodingError.dataCorruptedError(
                forKey: .spoolMaxSize, in: c,
                debugDescription: "a spool and when_full: drop_newest contradict each other; choose one")
        }
    }
}

/// The keys every source entry has besides its plugin's own.
public struct SourceCommonSettings: Sendable, Decodable {
    public var type: String
    public var name: String

    public static let keys = ["type", "name"]

    enum CodingKeys: String, CodingKey { case type, name }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? type
    }
}

/// A sink entry, decoded and ready to be built.
public struct ConfiguredSink: Sendable {
    public var settings: SinkCommonSettings
    /// The file the entry is in.
    public var file: String
    public var make: @Sendable (SinkContext) async throws -> any Sink
    /// The entry as written, with its secret files' checksums: what a SIGHUP compares.
    package var fingerprint = ""
}

/// A source entry, decoded and ready to be built.
public struct ConfiguredSource: Sendable {
    public var settings: SourceCommonSettings
    public var file: String
    public var make: @Sendable (SourceContext) async throws -> any Source
    /// The entry as written, with its secret files' checksums: what a SIGHUP compares.
    package var fingerprint = ""
}

/// A configuration file and its includes, checked and decoded.
public struct LoadedConfiguration: Sendable {
    /// The main file, as given.
    public var file: String
    /// Its directory: relative paths in the configuration are resolved against it.
    public var directory: String
    public var settings: CollectorSettings
    public var sources: [ConfiguredSource]
    public var sinks: [ConfiguredSink]
    /// Every file read (the main file first).
    public var files: [String]
    /// Valid but worth a warning (a retired endpoint, say), located like errors.
    public var warnings: [ConfigError] = []
    /// Each top-level setting as written (not `sources`, `sinks` or `include`): what a SIGHUP
    /// compares to name the settings that apply only at the next start.
    package var settingsFingerprint: [String: String] = [:]

    /// The state directory, resolved.
    public var stateDirectory: String {
        settings.stateDirectory.hasPrefix("/") ? settings.stateDirectory : "\(directory)/\(settings.stateDirectory)"
    }
}

extension LoadedConfiguration {
    /// Why this configuration cannot run (no sources, no sinks): refused at start and on SIGHUP.
    func unrunnable(name: String) -> [String] {
        var problems: [String] = []
        if sources.isEmpty { problems.append("\(name): no sources are configured; add a 'sources:' entry") }
        if sinks.isEmpty { problems.append("\(name): no sinks are configured; add a 'sinks:' entry") }
        return problems
    }
}
