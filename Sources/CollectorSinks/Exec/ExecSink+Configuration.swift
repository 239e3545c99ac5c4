public import CollectorCore
import CollectorSystem
public import Logging

extension ExecSink {
    public struct Configuration: Decodable, Sendable {
        /// argv; a single string runs through `/bin/sh -c`.
        public var command: [String]
        public var environment: [String: String]
        public var workingDirectory: String?
        public var ack: Bool
        public var ackTimeout: ConfigDuration
        public var writeTimeout: ConfigDuration
        public var shutdownTimeout: ConfigDuration

        enum CodingKeys: String, CodingKey {
            case command, environment
            case workingDirectory = "working_directory"
            case ack
            case ackTimeout = "ack_timeout"
            case writeTimeout = "write_timeout"
            case shutdownTimeout = "shutdown_timeout"
        }

        public init(command: [String], ack: Bool = true) {
            self.command = command
            environment = [:]
            workingDirectory = nil
            self.ack = ack
            ackTimeout = .seconds(30)
            writeTimeout = .seconds(30)
            shutdownTimeout = .seconds(5)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
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
            environment = try c.decodeIfPresent([String: String].self, forKey: .environment) ?? [:]
            workingDirectory = try c.decodeIfPresent(String.self, forKey: .workingDirectory)
            ack = try c.decodeIfPresent(Bool.self, forKey: .ack) ?? false
            ackTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .ackTimeout) ?? .seconds(30)
            writeTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .writeTimeout) ?? .seconds(30)
            shutdownTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .shutdownTimeout) ?? .seconds(5)
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "exec"
        public static let summary =
            "NDJSON into a child process's stdin (sinks in any language), with optional per-batch acknowledgement"
        public static let options: [PluginOption] = [
            PluginOption("command", type: "list (argv) or string (sh -c)", default: nil, "the program to run"),
            PluginOption("environment", type: "map", default: "none", "extra environment variables"),
            PluginOption(
                "working_directory", type: "path", default: "the main config file's directory", "where it runs"),
            PluginOption("ack", type: "bool", default: "false", "wait for `ok <batch_id>` after each batch"),
            PluginOption(
                "ack_timeout", type: "duration", default: "30s",
                "longest wait for an acknowledgement; then the child is restarted"),
            PluginOption(
                "write_timeout", type: "duration", default: "30s", "a child that reads nothing this long is restarted"),
            PluginOption(
                "shutdown_timeout", type: "duration", default: "5s",
                "on close: wait this long after closing stdin, then SIGTERM"),
        ]

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.workingDirectory = context.resolve(config.workingDirectory) ?? context.configurationDirectory
            return ExecSink(configuration: config, logger: context.logger, name: context.name)
        }
    }
}
