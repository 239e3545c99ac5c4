import CollectorCore
import GraphSecuritySource
import Testing

/// The ranges a graceful stop in a backfill records as collected, and the slices the restart
/// collects around them (``EndpointCheckpoint/collected``).
@Suite struct CollectedRangesTests {
    static let t0 = Timestamp(nanosecondsSinceEpoch: 1_790_000_000 * 1_000_000_000)
    /// The range from `a` to `b` minutes after t0.
    static func r(_ a: Int, _ b: Int) -> WindowSlice {
        WindowSlice(from: t0.adding(.seconds(a * 60)), to: t0.adding(.seconds(b * 60)))
    }

    @Test func recordedRangesStayInOrderAndThoseThatMeetMerge() {
        var ranges: [WindowSlice] = []
        ranges.record(Self.r(50, 60))
        ranges.record(Self.r(10, 20))
        ranges.record(Self.r(30, 40))
        #expect(ranges == [Self.r(10, 20), Self.r(30, 40), Self.r(50, 60)])
        ranges.record(Self.r(20, 30))  // meets both neighbours
        #expect(ranges == [Self.r(10, 40), Self.r(50, 60)])
        ranges.record(Self.r(45, 70))  // overlaps the last
        #expect(ranges == [Self.r(10, 40), Self.r(45, 70)])
        ranges.record(Self.r(0, 80))  // covers all
        #expect(ranges == [Self.r(0, 80)])
        ranges.record(Self.r(90, 90))  // empty: nothing to record
        #expect(ranges == [Self.r(0, 80)])
    }

    @Test func slicesLeaveOutWhatWasCollectedAndKeepItsEdges() {
        let slices = [Self.r(0, 40), Self.r(40, 80), Self.r(80, 120)]
        // Nothing collected: the slices as they are.
        #expect(slices.subtracting([]) == slices)
        // One range inside a slice, one across two slices, one covering a slice whole.
        let collected = [Self.r(10, 20), Self.r(35, 50), Self.r(75, 125)]
        #expect(slices.subtracting(collected) == [Self.r(0, 10), Self.r(20, 35), Self.r(50, 75)])
        // A range that starts where a slice starts, and one that ends where it ends.
        #expect([Self.r(0, 40)].subtracting([Self.r(0, 10), Self.r(30, 40)]) == [Self.r(10, 30)])
        // Collected ranges outside the slices change nothing.
        #expect([Self.r(20, 30)].subtracting([Self.r(0, 10), Self.r(40, 50)]) == [Self.r(20, 30)])
    }

    @Test func theCheckpointKeepsItsCollectedRangesPastTheWatermark() throws {
        var cp = EndpointCheckpoint(watermark: Self.t0.adding(.seconds(15 * 60)))
        cp.collected = [Self.r(20, 30), Self.r(40, 50)]
        let back = try #require(EndpointCheckpoint(json: cp.json))
        #expect(back.collected == cp.collected)
        // None recorded: no member at all, as in checkpoints written before there were any.
        #expect(EndpointCheckpoint(watermark: Self.t0).json["collected"] == nil)
        // Read back, a range the watermark already passed is dropped.
        var passed = cp
        passed.watermark = Self.t0.adding(.seconds(35 * 60))
        #expect(EndpointCheckpoint(json: passed.json)?.collected == [Self.r(40, 50)])
    }
}
