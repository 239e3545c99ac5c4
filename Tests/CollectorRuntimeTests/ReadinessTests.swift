import CollectorCore
import Testing

@testable import CollectorRuntime

/// What makes `/readyz` answer 503, decided without a server.
@Suite struct ReadinessTests {
    let now = Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)

    func sink(_ name: String, required: Bool = true, failingFor seconds: Double?) -> SinkStatistics {
        var s = SinkStatistics(name: name, required: required)
        s.failingSince = seconds.map { now.adding(seconds: -$0) }
        s.lastError = seconds == nil ? nil : "connection refused"
        return s
    }

    @Test func aRequiredSinkFailingForAMinuteIsNotReady() {
        #expect(Readiness.problems(sinks: [sink("files", failingFor: nil)], streams: [], now: now).isEmpty)
        #expect(Readiness.problems(sinks: [sink("siem", failingFor: 30)], streams: [], now: now).isEmpty)
        #expect(
            Readiness.problems(sinks: [sink("chat", required: false, failingFor: 600)], streams: [], now: now).isEmpty)
        let problems = Readiness.problems(sinks: [sink("siem", failingFor: 75)], streams: [], now: now)
        #expect(problems == ["sink 'siem' has been failing for 75 s: connection refused"])
    }

    @Test func aFailedPollOrALaggingStreamIsNotReady() {
        var failed = SourceStreamStatus(source: "graph", stream: "tenant/alerts_v2")
        failed.lastPollResult = .failed
        failed.lastError = "HTTP 503"
        var lagging = SourceStreamStatus(source: "graph", stream: "tenant/incidents")
        lagging.lastPollResult = .complete
        lagging.watermark = now.adding(seconds: -7200)
        var fine = SourceStreamStatus(source: "graph", stream: "tenant/alerts")
        fine.lastPollResult = .complete
        fine.watermark = now.adding(seconds: -120)
        let problems = Readiness.problems(sinks: [], streams: [failed, lagging, fine], now: now)
        #expect(problems.count == 2, "\(problems)")
        #expect(
            problems.contains {
                $0.contains("graph/tenant/alerts_v2: the last poll failed (it never succeeded): HTTP 503")
            })
        #expect(problems.contains { $0.contains("graph/tenant/incidents is 7200 s behind") })
    }

    @Test func oneFailedPollAmongRecentSuccessesIsStillReady() {
        var stream = SourceStreamStatus(source: "graph", stream: "tenant/alerts_v2")
        stream.lastPollResult = .failed
        stream.lastSuccessAt = now.adding(seconds: -90)
        stream.watermark = now.adding(seconds: -200)
        #expect(Readiness.problems(sinks: [], streams: [stream], now: now).isEmpty)
        stream.lastSuccessAt = now.adding(seconds: -400)
        #expect(
            Readiness.problems(sinks: [], streams: [stream], now: now).first?.contains("no success for 400 s") == true)
    }
}
