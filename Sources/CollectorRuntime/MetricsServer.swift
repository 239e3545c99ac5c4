import CollectorCore
import FlyingFox
import Foundation

/// `metrics: {listen: 127.0.0.1:9464}`: an HTTP endpoint with the pipeline's counters in the
/// Prometheus text format (`GET /metrics`) and a liveness check (`GET /healthz`).
struct MetricsServer {
    let server: HTTPServer
    let task: Task<Void, any Error>
    let port: UInt16

    static func start(host: String, port: UInt16, pipeline: EventPipeline, startedAt: Timestamp) async throws -> MetricsServer {
        let server = host.contains(":")
            ? HTTPServer(address: try .inet6(ip6: host, port: port), timeout: 15, logger: .disabled)
            : HTTPServer(address: try .inet(ip4: host, port: port), timeout: 15, logger: .disabled)
        await server.appendRoute("GET /metrics", to: MetricsHandler(pipeline: pipeline, startedAt: startedAt))
        await server.appendRoute("GET /healthz", to: HealthHandler(pipeline: pipeline))
        let task = Task { try await server.run() }
        try await server.waitUntilListening()
        var bound = port
        switch await server.listeningAddress {
        case .ip4(_, let p)?: bound = p
        case .ip6(_, let p)?: bound = p
        default: break
        }
        return MetricsServer(server: server, task: task, port: bound)
    }

    func stop() async {
        await server.stop(timeout: 1)
        task.cancel()
    }

    /// The Prometheus text exposition (format 0.0.4) of the pipeline's counters.
    static func exposition(_ sinks: [SinkStatistics], startedAt: Timestamp) -> String {
        var out = "# HELP graph_collector_start_time_seconds When the collector started (Unix time).\n"
        out += "# TYPE graph_collector_start_time_seconds gauge\ngraph_collector_start_time_seconds \(startedAt.secondsSinceEpoch)\n"
        let series: [(String, String, String, (SinkStatistics) -> Int)] = [
            ("queued_events", "gauge", "Events waiting in the sink's queue.", { $0.queued }),
            ("accepted_events_total", "counter", "Events the sink accepted.", { $0.accepted }),
            ("batches_total", "counter", "Batches the sink accepted.", { $0.batches }),
            ("retries_total", "counter", "Writes that failed with a retryable error.", { $0.retries }),
            ("rejected_events_total", "counter", "Events the sink rejected permanently.", { $0.rejected }),
            ("dead_lettered_events_total", "counter", "Rejected events kept in the dead-letter file.", { $0.deadLettered }),
            ("dropped_events_total", "counter", "Events a best-effort sink dropped because its queue was full.", { $0.dropped }),
            ("undelivered_events_total", "counter", "Events left undelivered at shutdown.", { $0.undelivered }),
            ("spooled_events_total", "counter", "Events written to the durable spool.", { $0.spooled }),
            ("unspooled_events_total", "counter", "Events delivered from the durable spool.", { $0.unspooled }),
        ]
        for (name, type, help, value) in series {
            out += "# HELP graph_collector_sink_\(name) \(help)\n# TYPE graph_collector_sink_\(name) \(type)\n"
            for s in sinks {
                let label = s.name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                out += "graph_collector_sink_\(name){sink=\"\(label)\",required=\"\(s.required)\"} \(value(s))\n"
            }
        }
        return out
    }
}

struct MetricsHandler: HTTPHandler {
    let pipeline: EventPipeline
    let startedAt: Timestamp

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        let text = MetricsServer.exposition(await pipeline.statistics(), startedAt: startedAt)
        return FlyingFox.HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(text.utf8))
    }
}

struct HealthHandler: HTTPHandler {
    let pipeline: EventPipeline

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        let sinks = await pipeline.statistics()
        let body = JSONWriter.string(.object([
            ("status", "ok"),
            ("sinks", .array(sinks.map { s in
                .object([("name", .string(s.name)), ("queued", .number(String(s.queued))), ("last_error", s.lastError.map(JSONValue.string) ?? .null)])
            })),
        ]))
        return FlyingFox.HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"], body: Data(body.utf8))
    }
}
