public import CollectorCore

extension PluginRegistry {
    /// Registers the sinks this module provides (`json-file`, `syslog`, `gzip-archive`, `webhook`, `exec`, `nats-jetstream`), through the same public path a
    /// custom sink uses.
    public mutating func registerBuiltinSinks() {
        register(sink: JSONFileSink.Plugin.self)
        register(sink: SyslogSink.Plugin.self)
        register(sink: GzipArchiveSink.Plugin.self)
        register(sink: WebhookSink.Plugin.self)
        register(sink: ExecSink.Plugin.self)
        register(sink: NatsJetStreamSink.Plugin.self)
    }
}
