/// The sink and source kinds a collector knows, by their `type:` name.
///
/// A value type: build one at start-up, register what you need, hand it to the runtime.
/// Registering a second plugin with a taken name replaces the first, so a custom build can
/// override a built-in on purpose.
public struct PluginRegistry: Sendable {
    public private(set) var sinks: [String: any SinkPlugin.Type] = [:]
    public private(set) var sources: [String: any SourcePlugin.Type] = [:]

    public init() {}

    public mutating func register<P: SinkPlugin>(sink plugin: P.Type) {
        sinks[P.type] = plugin
    }

    public mutating func register<P: SourcePlugin>(source plugin: P.Type) {
        sources[P.type] = plugin
    }

    public func sink(type: String) -> (any SinkPlugin.Type)? { sinks[type] }
    public func source(type: String) -> (any SourcePlugin.Type)? { sources[type] }

    public var sinkTypes: [String] { sinks.keys.sorted() }
    public var sourceTypes: [String] { sources.keys.sorted() }
}
