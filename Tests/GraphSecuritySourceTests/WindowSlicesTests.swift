import CollectorCore
import GraphSecuritySource
import Testing

/// How a backfill window is cut into slices (``EndpointCollector/Settings/slices(from:to:pageSpan:)``).
@Suite struct WindowSlicesTests {
    static func settings(parallel: Int) -> EndpointCollector.Settings {
        var settings = EndpointCollector.Settings(
            tenant: "t", endpoint: .alertsV2, graphURL: "https://graph.test", pageSize: 1000, lag: .zero,
            overlap: .seconds(60), lookBack: .seconds(31 * 86_400), giveUpAfter: .seconds(86_400), sourceName: "graph")
        settings.parallelSlices = parallel
        return settings
    }

    static let start = Timestamp(nanosecondsSinceEpoch: 1_790_000_000 * 1_000_000_000)
    static let end = Timestamp(nanosecondsSinceEpoch: (1_790_000_000 + 30 * 86_400) * 1_000_000_000)

    @Test(arguments: [
        // (parallel, pages in the window, slices): about 32 pages a slice, rounded up to whole waves.
        (4, 100, 4), (3, 100, 6), (5, 100, 5), (2, 100, 4), (4, 1000, 32), (3, 1000, 33), (4, 10, 4),
    ])
    func aWindowIsCutIntoWholeWavesOfSlices(parallel: Int, pages: Int, expected: Int) throws {
        let pageSpan = Self.end.duration(since: Self.start) / pages
        let slices = try #require(
            Self.settings(parallel: parallel).slices(from: Self.start, to: Self.end, pageSpan: pageSpan))
        #expect(slices.count == expected, "\(parallel) at a time, \(pages) pages")
        #expect(slices.count % parallel == 0, "whole waves: no slice paged alone at the end")
        #expect(slices.first?.from == Self.start && slices.last?.to == Self.end)
        for (earlier, later) in zip(slices, slices.dropFirst()) { #expect(earlier.to == later.from) }
    }

    @Test func aShortWindowStillGetsWholeWavesAndAHugeOneAtMostTenThousandSlices() throws {
        // 61 minutes: at most 61 slices of one minute; 60 of them are whole waves of four.
        let hour = Self.start.adding(.seconds(61 * 60))
        let short = try #require(Self.settings(parallel: 4).slices(from: Self.start, to: hour, pageSpan: .seconds(1)))
        #expect(short.count == 60)
        // 20 minutes, 32 at a time (slicing after 10 minutes): fewer minutes than the parallelism.
        var wide = Self.settings(parallel: 32)
        wide.sliceAfter = .seconds(600)
        let twenty = Self.start.adding(.seconds(20 * 60))
        #expect(try #require(wide.slices(from: Self.start, to: twenty, pageSpan: .seconds(1))).count == 20)
        // A billion pages: the most slices there may be, in whole waves of 32.
        let huge = try #require(wide.slices(from: Self.start, to: Self.end, pageSpan: .nanoseconds(1)))
        #expect(huge.count == 9_984)
    }

    @Test func aWindowOfUnknownDensityGetsFourSlicesForEachParallelOne() throws {
        let slices = try #require(Self.settings(parallel: 3).slices(from: Self.start, to: Self.end))
        #expect(slices.count == 12)
    }

    @Test func aShortWindowOrNoParallelismIsNotSliced() {
        #expect(Self.settings(parallel: 4).slices(from: Self.start, to: Self.start.adding(.seconds(1800))) == nil)
        #expect(Self.settings(parallel: 1).slices(from: Self.start, to: Self.end) == nil)
    }
}
