import CollectorTesting
import Testing

@testable import CollectorCore

/// The sink queue's accounting, without a worker, a sink or a clock.
@Suite struct SinkQueueTests {
    func receipt(_ count: Int) -> ReceiptState { ReceiptState(requiredSinks: ["s"], eventCount: count) }

    func append(
        _ queue: inout SinkQueue, _ range: Range<Int>, size: Int = 10, lane: PublishLane = .bulk
    ) -> ReceiptState {
        let events = SampleEvents.alerts(range)
        let r = receipt(events.count)
        queue.append(events, sizes: Array(repeating: size, count: events.count), receipt: r, lane: lane)
        return r
    }

    func ids(_ batch: SinkQueue.Batch) -> [Int] {
        batch.events.compactMap { $0.alert.flatMap { Int($0.id.dropFirst(6)) } }
    }

    @Test func countsEventsAndBytesAndIsFullByEither() {
        var queue = SinkQueue(capacity: 5, maxBytes: 100)
        #expect(!queue.isFull(adding: 50, bytes: 10_000), "an empty queue takes anything")
        _ = append(&queue, 0..<3, size: 20)
        #expect(queue.queuedEvents == 3 && queue.queuedBytes == 60 && queue.untakenEvents == 3)
        #expect(queue.isFull(adding: 3, bytes: 1))
        #expect(queue.isFull(adding: 1, bytes: 41))
        #expect(!queue.isFull(adding: 2, bytes: 40))
    }

    @Test func batchesFollowPublicationOrderAndLimitsAndSplitPublications() {
        var queue = SinkQueue(capacity: 100, maxBytes: 10_000)
        let first = append(&queue, 0..<4)
        let second = append(&queue, 4..<7)
        let a = queue.takeBatch(maxEvents: 5, maxBytes: 1000)
        #expect(a.events.compactMap(\.alert?.id) == (0..<5).map { "alert-\($0)" })
        #expect(queue.untakenEvents == 2)
        let b = queue.takeBatch(maxEvents: 5, maxBytes: 15)
        #expect(b.count == 1, "a byte limit stops the batch after the first event that fits")
        let afterA = queue.settle(a, .accepted)
        #expect(afterA.count == 1 && afterA[0].receipt === first, "the second publication is only partly settled")
        let c = queue.takeBatch(maxEvents: 5, maxBytes: 1000)
        #expect(queue.settle(c, .accepted).isEmpty, "batch b, taken before c, is still out")
        let afterB = queue.settle(b, .accepted)
        #expect(afterB.count == 1 && afterB[0].receipt === second)
        #expect(queue.queuedEvents == 0 && queue.queuedBytes == 0)
    }

    @Test func aSplitPublicationReportsItsWorstOutcome() {
        var queue = SinkQueue(capacity: 100, maxBytes: 10_000)
        _ = append(&queue, 0..<4)
        let a = queue.takeBatch(maxEvents: 2, maxBytes: 1000)
        let b = queue.takeBatch(maxEvents: 2, maxBytes: 1000)
        #expect(queue.settle(a, .rejected("bad field")).isEmpty)
        let completions = queue.settle(b, .accepted)
        #expect(completions.map(\.outcome) == [.rejected("bad field")])

        _ = append(&queue, 4..<8)
        let c = queue.takeBatch(maxEvents: 2, maxBytes: 1000)
        let d = queue.takeBatch(maxEvents: 2, maxBytes: 1000)
        _ = queue.settle(c, .undelivered)
        #expect(queue.settle(d, .rejected("x")).map(\.outcome) == [.undelivered])
    }

    @Test func untakenBytesCountOnlyWhatIsNotInABatch() {
        var queue = SinkQueue(capacity: 100, maxBytes: 10_000)
        _ = append(&queue, 0..<10, size: 10)
        #expect(queue.untakenBytesReach(100) && !queue.untakenBytesReach(101))
        _ = queue.takeBatch(maxEvents: 3, maxBytes: 1000)
        #expect(queue.untakenBytesReach(70) && !queue.untakenBytesReach(71))
    }

    @Test func regularPublicationsFindRoomInAQueueBulkOnesFilledUpToAQuarterMore() {
        var queue = SinkQueue(capacity: 20, maxBytes: 10_000)
        _ = append(&queue, 0..<20)
        #expect(queue.isFull(adding: 1, bytes: 10, lane: .bulk))
        #expect(!queue.isFull(adding: 8, bytes: 80, lane: .regular), "an empty regular lane takes a poll")
        _ = append(&queue, 100..<104, lane: .regular)
        #expect(!queue.isFull(adding: 1, bytes: 10, lane: .regular), "5 of the lane's 5 places")
        #expect(queue.isFull(adding: 2, bytes: 20, lane: .regular), "6 would pass a quarter of 20")
        #expect(queue.isFull(adding: 1, bytes: 10, lane: .bulk), "bulk counts the regular events too")
        #expect(queue.queuedEvents == 24)
    }

    @Test func regularOnlyTrafficHasTheWholeQueueAsBefore() {
        var queue = SinkQueue(capacity: 20, maxBytes: 10_000)
        _ = append(&queue, 0..<15, lane: .regular)
        #expect(!queue.isFull(adding: 5, bytes: 50, lane: .regular))
        _ = append(&queue, 15..<20, lane: .regular)
        #expect(queue.isFull(adding: 1, bytes: 10, lane: .regular))
    }

    @Test func batchesTakeRegularPublicationsFirstAndSettleBothLanes() {
        var queue = SinkQueue(capacity: 100, maxBytes: 10_000)
        let bulk = append(&queue, 0..<6)
        let regular = append(&queue, 100..<103, lane: .regular)
        let a = queue.takeBatch(maxEvents: 5, maxBytes: 1000)
        #expect(ids(a) == [100, 101, 102, 0, 1], "the regular lane first, then bulk in order")
        let b = queue.takeBatch(maxEvents: 5, maxBytes: 1000)
        #expect(ids(b) == [2, 3, 4, 5])
        let late = append(&queue, 103..<104, lane: .regular)
        let afterA = queue.settle(a, .accepted)
        #expect(afterA.count == 1 && afterA[0].receipt === regular)
        let afterB = queue.settle(b, .accepted)
        #expect(afterB.count == 1 && afterB[0].receipt === bulk)
        let c = queue.takeBatch(maxEvents: 5, maxBytes: 1000)
        #expect(ids(c) == [103])
        #expect(queue.settle(c, .accepted).first?.receipt === late)
        #expect(queue.queuedEvents == 0 && queue.queuedBytes == 0 && queue.untakenEvents == 0)
    }
}
