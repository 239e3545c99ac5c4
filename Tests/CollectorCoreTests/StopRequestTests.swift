import CollectorCore
import Testing

@Suite struct StopRequestTests {
    /// Sleeps of ten minutes end at the stop (well before: beside other suites on two cores,
    /// the tasks may wait a minute or two for a thread).
    @Test func aStopEndsLongSleepsAndLaterSleepsReturnAtOnce() async throws {
        let stop = StopRequest()
        let clock = ContinuousClock()
        let start = clock.now
        let sleepers = (0..<50).map { _ in Task { try await stop.sleep(for: .seconds(600)) } }
        try await Task.sleep(for: .milliseconds(50))
        stop.request()
        for sleeper in sleepers { try await sleeper.value }
        try await stop.sleep(for: .seconds(600))
        #expect(clock.now - start < .seconds(300))
    }

    @Test func aSleepWithoutAStopLastsItsDuration() async throws {
        let stop = StopRequest()
        let clock = ContinuousClock()
        let start = clock.now
        try await stop.sleep(for: .milliseconds(200))
        #expect(clock.now - start >= .milliseconds(200))
        #expect(!stop.isRequested)
    }

    @Test func aCancelledSleeperThrowsAndAStopAfterwardsWakesNobody() async throws {
        let stop = StopRequest()
        let sleeper = Task { try await stop.sleep(for: .seconds(600)) }
        try await Task.sleep(for: .milliseconds(50))
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        stop.request()
    }
}
