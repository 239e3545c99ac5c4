public import CollectorCore
import CollectorSinks
import GraphSecuritySource

extension PluginRegistry {
    /// A registry with every built-in source and sink.
    public static func builtins() -> PluginRegistry {
        var registry = PluginRegistry()
        registry.registerBuiltinSinks()
        registry.registerGraphSources()
        return registry
    }
}
