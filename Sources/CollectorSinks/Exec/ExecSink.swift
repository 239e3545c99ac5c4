public import CollectorCore
import CollectorSystem
import EventFormats
public import Logging

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
    public struct Statistics: Sendable, Hashable {
        public var starts = 0
        public var batches = 0
        public var events = 0
        public var lastExit: String?
    }

    private let executor: DedicatedThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public let configuration: Configuration
    /// Turns each event into a line of the configured format.
    let encoder: any EventEncoding
    let logger: Logger
    let name: String
    private var child: ChildProcess?
    private var batchNumber = 0
    public private(set) var statistics = Statistics()

    public init(configuration: Configuration, logger: Logger, name: String = "exec") {
        self.configuration = configuration
        self.encoder = configuration.formats.encoder
        self.logger = logger
        self.name = name
        self.executor = DedicatedThreadExecutor(name: "exec:\(name)")
    }

    private func running() throws -> ChildProcess {
        if let child {
            if let status = child.exited() {
                let how = ChildProcess.describe(status)
                statistics.lastExit = how
                logger.warning(
                    "the sink's child process exited; restarting it", metadata: ["sink": "\(name)", "how": "\(how)"])
                self.child = nil
            } else {
                return child
            }
        }
        let logger = self.logger
        let name = self.name
        do {
            let started = try ChildProcess(
                command: configuration.command, environment: configuration.environment,
                directory: configuration.workingDirectory, captureOutput: configuration.ack
            ) { line in
                logger.warning("child stderr: \(line)", metadata: ["sink": "\(name)"])
            }
            statistics.starts += 1
            let pid = started.pid
            logger.info(
                "started the sink's child process",
                metadata: [
                    "sink": "\(name)", "pid": "\(pid)", "command": "\(configuration.command.joined(separator: " "))",
                ])
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
        var lines: [UInt8] = []
        lines.reserveCapacity(64 * 1024)
        for event in batch {
            encoder.encode(event, into: &lines)
            lines.append(0x0A)
        }
        var bytes = lines
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
                throw SinkError.retryable(
                    "exec sink: the child asked to retry batch \(batchID): \(parts.dropFirst().first ?? "")")
            case "reject":
                throw SinkError.permanent(
                    "exec sink: the child rejected batch \(batchID): \(parts.dropFirst().first ?? "")")
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
            logger.info(
                "the sink's child process ended",
                metadata: ["sink": "\(name)", "how": "\(ChildProcess.describe(status))"])
        }
        self.child = nil
    }
}
