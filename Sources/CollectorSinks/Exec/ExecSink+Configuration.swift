public import CollectorCore
import CollectorSystem
public import EventFormats
public import Logging

extension ExecSink {
    public struct Configuration: Decodable, Sendable {
        // The defaults, declared once: decoding and the `plugins` listing read them from here.
        /// argv; a single string runs through `/bin/sh -c`.
        public var command: [String]
        /// `format:` (json by default) and its settings block.
        public var formats = EventFormatSettings(.json)
        public var environment: [String: String] = [:]
        /// nil: the main configuration file's directory.
        public var workingDirectory: String?
        public var ack = false
        public var ackTimeout: ConfigDuration = .seconds(30)
        public var writeTimeout: ConfigDuration = .seconds(30)
        public var shutdownTimeout: ConfigDuration = .seconds(5)

        /// Every setting at its default (the command has none).
        static let defaults = Configuration(command: [])

        enum CodingKeys: String, CodingKey {
            case command, environment
            case workingDirectory = "working_directory"
            case ack
            case ackTimeout = "ack_timeout"
            case writeTimeout = "write_timeout"
            case shutdownTimeout = "shutdown_timeout"
        }

        public init(command: [String], ack: Bool? = nil) {
            self.command = command
            if let ack { self.ack = ack }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            formats = try EventFormatSettings(from: decoder, default: .json)
            let d = Self.defaults
            if let line = try? c.decode(String.self, forKey: .command) {
                command = ["/bin/sh", "-c", line]
            } else {
                command = try c.decode([String].self, forKey: .command)
            }
            guard !command.isEmpty, !command[0].isEmpty else {
                throw DecodingError.dataCorruptedError(
                    forKey: .command, in: c,
                    debugDescription: "command is empty; give argv as a list ([python3, sink.py]) or a shell line")
            }
            environment = try c.decodeIfPresent([String: String].self, forKey: .environment) ?? d.environment
            workingDirectory = try c.decodeIfPresent(String.self, forKey: .workingDirectory)
            ack = try c.decodeIfPresent(Bool.self, forKey: .ack) ?? d.ack
            ackTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .ackTimeout) ?? d.ackTimeout
            writeTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .writeTimeout) ?? d.writeTimeout
            shutdownTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .shutdownTimeout) ?? d.shutdownTimeout
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "exec"
        public static let summary =
            "NDJSON into a child process's stdin (sinks in any language), with optional per-batch acknowledgement"
        public static var options: [PluginOption] {
            let d = Configuration.defaults
            return [
                EventFormatSettings.option(default: .json),
                PluginOption("command", type: "list (argv) or string (sh -c)", default: nil, "the program to run"),
                PluginOption(
                    "environment", type: "map", default: d.environment.isEmpty ? "none" : "\(d.environment)",
                    "extra environment variables"),
                PluginOption(
                    "working_directory", type: "path", default: "the main config file's directory", "where it runs"),
                PluginOption("ack", type: "bool", default: "\(d.ack)", "wait for `ok <batch_id>` after each batch"),
                PluginOption(
                    "ack_timeout", type: "duration", default: "\(d.ackTimeout)",
                    "longest wait for an acknowledgement; then the child is restarted"),
                PluginOption(
                    "write_timeout", type: "duration", default: "\(d.writeTimeout)",
                    "a child that reads nothing this long is restarted"),
                PluginOption(
                    "shutdown_timeout", type: "duration", default: "\(d.shutdownTimeout)",
                    "on close: wait this long after closing stdin, then SIGTERM"),
            ]
        }

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.workingDirectory = context.resolve(config.workingDirectory) ?? context.configurationDirectory
            return ExecSink(configuration: config, logger: context.logger, name: context.name)
        }
    }
}
