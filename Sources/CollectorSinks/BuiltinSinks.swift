public import CollectorCore

extension PluginRegistry {
    /// Registers the sinks this module provides (`json-file`, `syslog`), through the same public path a
    /// custom sink uses.
    public mutating func registerBuiltinSinks() {
        register(sink: JSONFileSink.Plugin.self)
        register(sink: SyslogSink.Plugin.self)
    }
}
