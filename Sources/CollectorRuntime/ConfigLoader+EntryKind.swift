import CollectorConfig
import CollectorCore
import Yams

/// The keys every entry has: which plugin, and the entry's name.
protocol CommonEntrySettings: Decodable, Sendable {
    var type: String { get }
    var name: String { get }
}

extension SinkCommonSettings: CommonEntrySettings {}
extension SourceCommonSettings: CommonEntrySettings {}

/// A section of entries (`sinks:` or `sources:`): what its entries share, and how one is decoded
/// through its plugin. ``ConfigLoader`` decodes both through one generic path.
protocol EntryKind {
    associatedtype Common: CommonEntrySettings
    associatedtype Configured
    static var section: String { get }
    static var noun: String { get }
    /// The keys every entry of the section takes besides its plugin's own.
    static var commonKeys: [String] { get }
    static func types(in registry: PluginRegistry) -> [String]
    /// The plugin's documented options; nil when no plugin has this type.
    static func options(of type: String, in registry: PluginRegistry) -> [PluginOption]?
    static func configure(
        _ common: Common, registry: PluginRegistry, decoder: YAMLConfigDecoder, node: Node, path: [any CodingKey],
        file: String
    ) throws -> Configured
}

enum SinkEntry: EntryKind {
    static let section = "sinks"
    static let noun = "sink"
    static var commonKeys: [String] { SinkCommonSettings.keys }
    static func types(in registry: PluginRegistry) -> [String] { registry.sinkTypes }
    static func options(of type: String, in registry: PluginRegistry) -> [PluginOption]? {
        registry.sink(type: type)?.options
    }

    static func configure(
        _ common: SinkCommonSettings, registry: PluginRegistry, decoder: YAMLConfigDecoder, node: Node,
        path: [any CodingKey], file: String
    ) throws -> ConfiguredSink {
        let plugin = registry.sink(type: common.type)!
        let make = try decode(plugin, decoder: decoder, node: node, path: path)
        var configured = ConfiguredSink(settings: common, file: file, make: make)
        configured.fingerprint = ConfigLoader.fingerprint(node, secrets: decoder.secretsRead)
        return configured
    }

    static func decode<P: SinkPlugin>(
        _ plugin: P.Type, decoder: YAMLConfigDecoder, node: Node, path: [any CodingKey]
    ) throws -> @Sendable (SinkContext) async throws -> any Sink {
        let configuration = try decoder.decode(P.Configuration.self, from: node, path: path)
        return { context in try await P.makeSink(configuration: configuration, context: context) }
    }
}

enum SourceEntry: EntryKind {
    static let section = "sources"
    static let noun = "source"
    static var commonKeys: [String] { SourceCommonSettings.keys }
    static func types(in registry: PluginRegistry) -> [String] { registry.sourceTypes }
    static func options(of type: String, in registry: PluginRegistry) -> [PluginOption]? {
        registry.source(type: type)?.options
    }

    static func configure(
        _ common: SourceCommonSettings, registry: PluginRegistry, decoder: YAMLConfigDecoder, node: Node,
        path: [any CodingKey], file: String
    ) throws -> ConfiguredSource {
        let plugin = registry.source(type: common.type)!
        let make = try decode(plugin, decoder: decoder, node: node, path: path)
        var configured = ConfiguredSource(settings: common, file: file, make: make)
        configured.fingerprint = ConfigLoader.fingerprint(node, secrets: decoder.secretsRead)
        return configured
    }

    /// Decodes the plugin's configuration and collects its advice (``ConfigurationAdvice``).
    static func decode<P: SourcePlugin>(
        _ plugin: P.Type, decoder: YAMLConfigDecoder, node: Node, path: [any CodingKey]
    ) throws -> @Sendable (SourceContext) async throws -> any Source {
        let configuration = try decoder.decode(P.Configuration.self, from: node, path: path)
        if let advised = configuration as? any ConfigurationAdvice {
            let mark = decoder.nearestMark(path)
            let label = "\(YAMLConfigDecoder.pathText(path)) (\(P.type))"
            decoder.advice += advised.advice.map {
                ConfigError(file: decoder.file, line: mark?.line, column: mark?.column, context: label, message: $0)
            }
        }
        return { context in try await P.makeSource(configuration: configuration, context: context) }
    }
}
