public import CollectorCore
import NatsClient

extension NatsJetStreamSink {
    public enum Plugin: SinkPlugin {
        public static let type = "nats-jetstream"
        public static let summary =
            "NATS JetStream: each event a message acknowledged by the stream, Nats-Msg-Id for exactly once in it"
        public static var options: [PluginOption] {
            let d = Configuration.defaults
            return [
                PluginOption("servers", type: "list of URLs", default: nil, "nats://host:4222 or tls://…; fails over"),
                PluginOption(
                    "subject", type: "subject template", default: nil,
                    "e.g. graph.{event_type}.{severity}; fields: " + PathTemplate.fields.joined(separator: " ")),
                EventFormatSettings.option(default: .json),
                PluginOption(
                    "stream", type: "name, subjects, replicas, max_age, duplicate_window", default: "none",
                    "create the stream at start, or check it (duplicate_window 10m, replicas 1)"),
                PluginOption(
                    "auth", type: "user/password, token, credentials_file or nkey/nkey_seed_file", default: "none",
                    "credentials (secrets via ${ENV} or x_file)"),
                PluginOption(
                    "max_pending", type: "integer", default: "\(d.maxPending)", "publishes awaiting their ack"),
                PluginOption(
                    "ack_timeout", type: "duration", default: "\(d.ackTimeout)",
                    "wait for a batch's acks before retrying it"),
                PluginOption("connect_timeout", type: "duration", default: "\(d.connectTimeout)", "each connection"),
                PluginOption(
                    "reconnect_wait", type: "duration", default: "\(d.reconnectWait)", "between reconnection attempts"),
                PluginOption(
                    "tls", type: "ca_file, client_certificate, client_key, server_name, verify",
                    default: "off (on for tls://)", "TLS towards the servers; certificates verified"),
            ]
        }

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            let sink = NatsJetStreamSink(configuration: configuration, context: context)
            try await sink.start()
            return sink
        }
    }
}
