public import CollectorCore
public import Logging
import CollectorSystem

/// `type: exec`: sinks in any language. Starts a long-lived child process and writes events to
/// its stdin as NDJSON (the README's event schema), one line per event.
///
/// With `ack: true` the sink knows what the child really took: after each batch it writes a
/// control line `{"event_type":"batch_end","batch_id":"<n>","count":<events>}` and waits for one
/// line on the child's stdout: `ok <batch_id>` (accepted), `retry <reason>` (try the batch again
/// later) or `reject <reason>` (never accept it). Without it, a batch counts as delivered once it
/// is in the pipe, and a crashing child can lose what it had read but not handled.
///
/// A child that exits or stops answering is restarted on the next attempt (the pipeline's retry
/// backoff paces restarts); its stderr goes to the collector's log, line by line.
public actor ExecSink: Sink {
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
            case command, environment, workingDirectory = "working_directory", ack, ackTimeout = "ack_timeout"
            case writeTimeout = "write_timeout", shutdownTimeout = "shutdown_timeout"
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
                throw DecodingError.dataCorruptedError(forKey: .command, in: c, debugDescription: "command is empty; give argv as a list ([python3, sink.py]) or a shell line")
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
        public static let summary = "NDJSON into a child process's stdin (sinks in any language), with optional per-batch acknowledgement"
        public static let options: [PluginOption] = [
            PluginOption("command", type: "list (argv) or string (sh -c)", default: nil, "the program to run"),
            PluginOption("environment", type: "map", default: "none", "extra environment variables"),
            PluginOption("working_directory", type: "path", default: "the main config file's directory", "where it runs"),
            PluginOption("ack", type: "bool", default: "false", "wait for `ok <batch_id>` after each batch"),
            PluginOption("ack_timeout", type: "duration", default: "30s", "longest wait for an acknowledgement; then the child is restarted"),
            PluginOption("write_timeout", type: "duration", default: "30s", "a child that reads nothing this long is restarted"),
            PluginOption("shutdown_timeout", type: "duration", default: "5s", "on close: wait this long after closing stdin, then SIGTERM"),
        ]

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.workingDirectory = context.resolve(config.workingDirectory) ?? context.configurationDirectory
            return ExecSink(configuration: config, logger: context.logger, name: context.name)
        }
    }

    public struct Statistics: Sendable, Hashable {
        public var starts = 0
        public var batches = 0
        public var events = 0
        public var lastExit: String?
    }

    private let executor: DedicatedThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public let configuration: Configuration
    let logger: Logger
    let name: String
    private var child: ChildProcess?
    private var batchNumber = 0
    public private(set) var statistics = Statistics()

    public init(configuration: Configuration, logger: Logger, name: String = "exec") {
        self.configuration = configuration
        self.logger = logger
        self.name = name
        self.executor = DedicatedThreadExecutor(name: "exec:\(name)")
    }

    private func running() throws -> ChildProcess {
        if let child {
            if let status = child.exited() {
                let how = ChildProcess.describe(status)
                statistics.lastExit = how
                logger.warning("the sink's child process exited; restarting it", metadata: ["sink": "\(name)", "how": "\(how)"])
                self.child = nil
            } else {
                return child
            }
        }
        let logger = self.logger, name = self.name
        do {
            let started = try ChildProcess(command: configuration.command, environment: configuration.environment,
                                           directory: configuration.workingDirectory, captureOutput: configuration.ack) { line in
                logger.warning("child stderr: \(line)", metadata: ["sink": "\(name)"])
            }
            statistics.starts += 1
            let pid = started.pid
            logger.info("started the sink's child process", metadata: ["sink": "\(name)", "pid": "\(pid)", "command": "\(configuration.command.joined(separator: " "))"])
            child = started
            return started
        } catch {
            throw SinkError.retryable("exec sink: \(error)")
        }
    }

    public func write(_ batch: [Event]) async throws {
        guard !batch.isEmpty else { return }
        let process = try running()
        batchNumber += 1
        let batchID = "\(batchNumber)"
        var writer = JSONWriter(reservingCapacity: 64 * 1024)
        for event in batch { event.ndjsonLine(into: &writer) }
        var bytes = writer.bytes
        if configuration.ack {
            bytes += Array(#"{"event_type":"batch_end","batch_id":"\#(batchID)","count":\#(batch.count)}"#.utf8)
            bytes.append(0x0A)
        }
        do {
            try process.write(bytes, timeout: configuration.writeTimeout.duration)
        } catch {
            restart(because: "\(error)")
            throw SinkError.retryable("exec sink: \(error)")
        }
        if configuration.ack {
            let line: String?
            do {
                line = try process.readLine(timeout: configuration.ackTimeout.duration)
            } catch {
                restart(because: "\(error)")
                throw SinkError.retryable("exec sink: \(error)")
            }
            guard let line else {
                restart(because: "the child closed its output before acknowledging batch \(batchID)")
                throw SinkError.retryable("exec sink: the child ended before acknowledging batch \(batchID)")
            }
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            switch parts.first {
            case "ok" where parts.count == 2 && parts[1] == batchID:
                break
            case "retry":
                throw SinkError.retryable("exec sink: the child asked to retry batch \(batchID): \(parts.dropFirst().first ?? "")")
            case "reject":
                throw SinkError.permanent("exec sink: the child rejected batch \(batchID): \(parts.dropFirst().first ?? "")")
            default:
                restart(because: "unexpected acknowledgement '\(line.prefix(100))' for batch \(batchID)")
                throw SinkError.retryable("exec sink: expected 'ok \(batchID)', got '\(line.prefix(100))'")
            }
        }
        statistics.batches += 1
        statistics.events += batch.count
    }

    private func restart(because reason: String) {
        guard let child else { return }
        logger.warning("stopping the sink's child process", metadata: ["sink": "\(name)", "reason": "\(reason)"])
        child.stop(grace: .milliseconds(200))
        statistics.lastExit = child.exited().map(ChildProcess.describe)
        self.child = nil
    }

    public func close() async throws {
        defer { executor.shutdown() }
        guard let child else { return }
        child.stop(grace: configuration.shutdownTimeout.duration)
        if let status = child.exited() {
            logger.info("the sink's child process ended", metadata: ["sink": "\(name)", "how": "\(ChildProcess.describe(status))"])
        }
        self.child = nil
    }
}
