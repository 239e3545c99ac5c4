import CollectorCore
import CollectorSinks
import CollectorTesting
import FlyingFox
import Foundation

/// 4. The webhook sink (NDJSON bodies of 500 events, two requests in flight) to a loopback HTTP
/// receiver that counts the events it is given.
enum WebhookBenchmark {
    actor Counter {
        var events = 0, bytes = 0, requests = 0
        func add(_ body: Data) {
            requests += 1
            bytes += body.count
            events += body.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
    }

    struct Receiver: HTTPHandler {
        let counter: Counter
        func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
            await counter.add(try await request.bodyData)
            return FlyingFox.HTTPResponse(statusCode: .ok)
        }
    }

    static func run(events: Int) async throws {
        let pool = try EventPool.make()
        let batches = EventPool.batches(pool, total: events, size: 500)
        let counter = Counter()
        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: 0), timeout: 60, logger: .disabled)
        await server.appendRoute("POST /hook", to: Receiver(counter: counter))
        let task = Task { try await server.run() }
        defer { task.cancel() }
        try await server.waitUntilListening(timeout: 60)  // a loaded machine may take more than 5 s
        guard case .ip4(_, let port)? = await server.listeningAddress else {
            throw BenchError("the receiver is not listening")
        }
        let configuration = try CollectorTestingConfig.decode(
            WebhookSink.Configuration.self,
            yaml: """
                url: http://127.0.0.1:\(port)/hook
                format: ndjson
                max_events_per_request: 500
                max_concurrent: 2
                """)
        let sink = try await WebhookSink.Plugin.makeSink(configuration: configuration, context: benchContext("webhook"))
        let ours = try await Measurement.of {
            for batch in batches { try await sink.write(batch) }
            try await sink.close()
        }
        let (received, bytes, requests) = (await counter.events, await counter.bytes, await counter.requests)
        await server.stop(timeout: 1)
        guard received == events else {
            throw BenchError(
                "the receiver counted \(received) of \(events) events in \(requests) requests, \(bytes) bytes")
        }
        printTable(
            "4. Webhook sink, NDJSON batches of 500, to a loopback receiver (\(formatted(Double(events))) events)",
            [
                Row(
                    name: "graph-collector webhook sink (libcurl, 2 in flight)", events: events, bytes: bytes,
                    wall: ours.wall, cpu: ours.cpu,
                    peakRSS: ours.peakRSS,
                    note: "\(requests) requests; the receiver (FlyingFox) runs in the same process")
            ])
    }
}
