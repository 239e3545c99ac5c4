import CollectorCore
import FlyingFox
import Foundation
import ServiceLifecycle

/// `metrics: {listen: 127.0.0.1:9464}`: an HTTP endpoint with the pipeline's counters in the
/// Prometheus text format (`GET /metrics`), a liveness check (`GET /healthz`) and a readiness
/// check (`GET /readyz`, ``Readiness``). Started (and
/// its port bound) before the run, so a taken port fails the start; a service of the run, stopped
/// at the end of the graceful shutdown.
struct MetricsServer: Service {
    let server: HTTPServer
    let task: Task<Void, any Error>
    let port: UInt16

    static func start(
        host: String, port: UInt16, pipeline: EventPipeline, sources: RunningSources, startedAt: Timestamp
    ) async throws -> MetricsServer {
        let server =
            host.contains(":")
            ? HTTPServer(address: try .inet6(ip6: host, port: port), timeout: 15, logger: .disabled)
            : HTTPServer(address: try .inet(ip4: host, port: port), timeout: 15, logger: .disabled)
        await server.appendRoute(
            "GET /metrics", to: MetricsHandler(pipeline: pipeline, sources: sources, startedAt: startedAt))
        await server.appendRoute("GET /healthz", to: HealthHandler(pipeline: pipeline))
        await server.appendRoute("GET /readyz", to: ReadyHandler(pipeline: pipeline, sources: sources))
        let task = Task { try await server.run() }
        try await server.waitUntilListening(timeout: 60)  // a loaded machine may take more than 5 s
        var bound = port
        switch await server.listeningAddress {
        case .ip4(_, let p)?: bound = p
        case .ip6(_, let p)?: bound = p
        default: break
        }
        return MetricsServer(server: server, task: task, port: bound)
    }

    func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }

    func stop() async {
        await server.stop(timeout: 1)
        task.cancel()
    }

    /// The Prometheus text exposition (format 0.0.4) of the pipeline's counters.
    static func exposition(
        _ sinks: [SinkStatistics], streams: [SourceStreamStatus] = [], startedAt: Timestamp, now: Timestamp = .now()
    ) -> String {
        var out = "# HELP graph_collector_start_time_seconds When the collector started (Unix time).\n"
        out +=
            "# TYPE graph_collector_start_time_seconds gauge\ngraph_collector_start_time_seconds "
            + "\(startedAt.secondsSinceEpoch)\n"
        for (name, type, help, value) in sinkSeries {
            out += "# HELP graph_collector_sink_\(name) \(help)\n# TYPE graph_collector_sink_\(name) \(type)\n"
            for s in sinks {
                out +=
                    "graph_collector_sink_\(name){sink=\"\(label(s.name))\",required=\"\(s.required)\"} \(value(s))\n"
            }
        }
        for (name, type, help, value) in sourceSeries(now: now) {
            out += "# HELP graph_collector_source_\(name) \(help)\n# TYPE graph_collector_source_\(name) \(type)\n"
            for s in streams {
                guard let v = value(s) else { continue }
                out +=
                    "graph_collector_source_\(name){source=\"\(label(s.source))\",stream=\"\(label(s.stream))\"} \(number(v))\n"
            }
        }
        out +=
            "# HELP graph_collector_source_provider_warnings_total Provider failures reported behind 206 Partial "
            + "Content, by provider.\n"
        out += "# TYPE graph_collector_source_provider_warnings_total counter\n"
        for s in streams {
            for (provider, count) in s.warningsByProvider.sorted(by: { $0.key < $1.key }) {
                out +=
                    "graph_collector_source_provider_warnings_total{source=\"\(label(s.source))\",stream=\"\(label(s.stream))\",provider=\"\(label(provider))\"} \(count)\n"
            }
        }
        return out
    }

    static func label(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.3f", v)
    }
}

struct MetricsHandler: HTTPHandler {
    let pipeline: EventPipeline
    let sources: RunningSources
    let startedAt: Timestamp

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        let text =
            MetricsServer.exposition(
                await pipeline.statistics(), streams: sources.boards.flatMap(\.snapshot), startedAt: startedAt)
            + CollectorMetrics.exposition()
        return FlyingFox.HTTPResponse(
            statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(text.utf8))
    }
}

struct HealthHandler: HTTPHandler {
    let pipeline: EventPipeline

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        let sinks = await pipeline.statistics()
        let body = JSONWriter.string(
            .object([
                ("status", "ok"),
                (
                    "sinks",
                    .array(
                        sinks.map { s in
                            .object([
                                ("name", .string(s.name)), ("queued", .number(String(s.queued))),
                                ("last_error", s.lastError.map(JSONValue.string) ?? .null),
                            ])
                        })
                ),
            ]))
        return FlyingFox.HTTPResponse(
            statusCode: .ok, headers: [.contentType: "application/json"], body: Data(body.utf8))
    }
}
