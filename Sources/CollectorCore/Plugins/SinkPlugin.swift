public import Logging

/// A kind of sink that configuration can name: `type: json-file` picks the plugin whose
/// ``type`` is `json-file`, decodes the rest of that config entry as its ``Configuration`` and
/// calls ``makeSink(configuration:context:)``.
///
/// Built-in sinks register through the same public path as yours:
/// ```swift
/// var registry = PluginRegistry.builtins()
/// registry.register(sink: ChatNotifierSink.Plugin.self)
/// ```
public protocol SinkPlugin: SendableMetatype {
    /// The sink's settings. Decoded from the sink's entry in the configuration, which also holds
    /// the keys every sink takes (`type`, `name`, `dead_letters`, `spool_max_size` and those of
    /// ``SinkDeliverySettings``); do not use those names. Config errors point at the line and
    /// column of the offending key.
    associatedtype Configuration: Decodable & Sendable

    /// The `type:` value that selects this plugin, lowercase with hyphens (`json-file`).
    static var type: String { get }

    /// One line for `graph-collector plugins`.
    static var summary: String { get }

    /// The plugin's options, for `graph-collector plugins` and the documentation.
    static var options: [PluginOption] { get }

    /// Builds a sink. Open files and connections here or lazily on first write; throw a
    /// descriptive error if the configuration cannot work (a directory that cannot be made).
    static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink
}

extension SinkPlugin {
    public static var options: [PluginOption] { [] }
}

/// What a sink is told about its place in the collector.
public struct SinkContext: Sendable {
    /// The sink's configured name (`name:`), unique among sinks.
    public var name: String
    /// A logger labelled for this sink.
    public var logger: Logger
    /// A directory for this sink's own state (spools, sidecars), created on demand.
    public var stateDirectory: String
    /// The directory that relative paths in the configuration are resolved against.
    public var configurationDirectory: String

    /// A path from the configuration, resolved against ``configurationDirectory`` unless absolute.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : "\(configurationDirectory)/\(path)"
    }

    /// ``resolve(_:)`` for an optional setting.
    public func resolve(_ path: String?) -> String? { path.map { resolve($0) } }

    public init(name: String, logger: Logger, stateDirectory: String, configurationDirectory: String) {
        self.name = name
        self.logger = logger
        self.stateDirectory = stateDirectory
        self.configurationDirectory = configurationDirectory
    }
}

/// One documented option of a plugin.
public struct PluginOption: Sendable, Hashable {
    public var name: String
    public var type: String
    /// The default as it would be written in YAML, or nil when the option is required.
    public var defaultValue: String?
    public var summary: String

    public init(_ name: String, type: String, default defaultValue: String?, _ summary: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.summary = summary
    }
}
