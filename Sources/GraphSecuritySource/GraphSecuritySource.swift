public import CollectorCore

extension PluginRegistry {
    /// Registers the sources this module provides: `graph-security`, `graph-recorded` and `synthetic`.
    public mutating func registerGraphSources() {
        register(source: RecordedSource.Plugin.self)
        register(source: SyntheticSource.Plugin.self)
        register(source: GraphSecurityCollector.Plugin.self)
    }
}
