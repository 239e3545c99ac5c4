import CollectorCore
import FlyingFox
import Foundation

/// Whether the collector is doing its job, for `/readyz` (a load balancer, Kubernetes, a
/// monitoring check): not while a required sink keeps failing, a stream's last poll failed, or a
/// stream's checkpoint lags far behind. `/healthz` stays the liveness check (the process answers).
struct Readiness {
    /// A required sink failing this long makes the collector not ready.
    static let sinkFailingLimit: Double = 60
    /// A stream whose checkpoint is this far behind now makes the collector not ready.
    static let lagLimit: Double = 3600
    /// A failed poll counts once the stream has not succeeded for this long (one failure among
    /// successes is what retries are for).
    static let pollFailingLimit: Double = 300

    /// The reasons the collector is not ready; empty when it is.
    static func problems(sinks: [SinkStatistics], streams: [SourceStreamStatus], now: Timestamp) -> [String] {
        var problems: [String] = []
        func seconds(since time: Timestamp) -> Double {
            Double(now.nanosecondsSinceEpoch - time.nanosecondsSinceEpoch) / 1e9
        }
        for sink in sinks where sink.required {
            guard let since = sink.failingSince else { continue }
            let seconds = seconds(since: since)
            if seconds >= sinkFailingLimit {
                problems.append(
                    "sink '\(sink.name)' has been failing for \(Int(seconds)) s: \(sink.lastError ?? "unknown error")")
            }
        }
        for stream in streams {
            let name = "\(stream.source)/\(stream.stream)"
            let sinceSuccess = stream.lastSuccessAt.map(seconds(since:))
            if stream.lastPollResult == .failed, sinceSuccess.map({ $0 >= pollFailingLimit }) ?? true {
                let when = sinceSuccess.map { "no success for \(Int($0)) s" } ?? "it never succeeded"
                problems.append(
                    "stream \(name): the last poll failed (\(when)): \(stream.lastError ?? "unknown error")")
            }
            if let lag = stream.watermarkLag(now: now), lag > lagLimit {
                problems.append("stream \(name) is \(Int(lag)) s behind (more than \(Int(lagLimit)) s)")
            }
        }
        return problems
    }
}

/// `GET /readyz`: 200 "ready", or 503 with one reason per line.
struct ReadyHandler: HTTPHandler {
    let pipeline: EventPipeline
    let sources: RunningSources

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        let problems = Readiness.problems(
            sinks: await pipeline.statistics(), streams: sources.boards.flatMap(\.snapshot), now: .now())
        let text = problems.isEmpty ? "ready\n" : "not ready:\n" + problems.map { "- \($0)\n" }.joined()
        return FlyingFox.HTTPResponse(
            statusCode: problems.isEmpty ? .ok : .serviceUnavailable,
            headers: [.contentType: "text/plain; charset=utf-8"], body: Data(text.utf8))
    }
}
