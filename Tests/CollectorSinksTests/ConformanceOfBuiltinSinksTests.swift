import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import TestReceivers
import Testing

/// The parts of the conformance suite that need no receiver, run against every built-in sink.
@Suite struct ConformanceOfBuiltinSinksTests {
    @Test func cancelledWritesAreAllOrNothing() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let json = try JSONFileSink.Configuration(directory: dir.file("json"), path: "e.ndjson")
        try await SinkConformance.checkCancellation(
            makeSink: { try await JSONFileSink.open(configuration: json, logger: quiet) },
            readBack: { try readEvents(dir.file("json/e.ndjson")) })
        let gz = try GzipArchiveSink.Configuration(directory: dir.file("gz"), path: "e.ndjson.gz")
        try await SinkConformance.checkCancellation(
            makeSink: { try await GzipArchiveSink.open(configuration: gz, logger: quiet) },
            readBack: { try await zcatEvents(dir.file("gz")) })
    }

    @Test func failuresAreRetryableSinkErrors() async throws {
        let refusing = try RefusingPort()  // bound, never listening: connections are refused
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        try await SinkConformance.checkFailureReporting {
            SyslogSink(
                configuration: try syslogConfig("targets: [\"127.0.0.1:\(port)\"]\nconnect_timeout: 1s"), logger: quiet)
        }
        try await SinkConformance.checkFailureReporting {
            SyslogSink(
                configuration: try syslogConfig(
                    "transport: tls\ntargets: [\"127.0.0.1:\(port)\"]\nconnect_timeout: 1s"), logger: quiet)
        }
        try await SinkConformance.checkFailureReporting {
            WebhookSink(
                configuration: try webhookConfig("url: http://127.0.0.1:\(port)/x\nconnect_timeout: 1s"), logger: quiet)
        }
        try await SinkConformance.checkFailureReporting {
            ExecSink(configuration: ExecSink.Configuration(command: ["/nonexistent/program"], ack: true), logger: quiet)
        }
        try await SinkConformance.checkFailureReporting {
            try await JSONFileSink.open(
                configuration: try JSONFileSink.Configuration(
                    directory: "/proc/self", path: "graph-collector-test.ndjson"), logger: quiet)
        }
    }
}
