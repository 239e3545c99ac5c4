import DequeModule

/// One sink's queue, without I/O or waiting: what was published (each publication an item with
/// its receipt), what has been taken into batches, and what is settled. Accounts events and
/// bytes (the events' approximate JSON size) so that ``isFull(adding:bytes:lane:)`` bounds memory.
///
/// Two lanes (``PublishLane``): batches take regular publications (a poll's new alerts) before
/// bulk ones (a backfill), so one tenant's backfill does not delay another's new alerts.
///
/// A publication may be split across batches; its receipt completes when the last of its
/// events is settled, with the worst outcome any of its batches had.
struct SinkQueue {
    /// A batch taken from the queue: its events, and how many came from each publication.
    struct Batch {
        var events: [Event] = []
        var bytes = 0
        fileprivate var parts: [(item: Item, count: Int)] = []
        var isEmpty: Bool { events.isEmpty }
        var count: Int { events.count }
    }

    /// How a batch fared at the sink.
    enum Outcome: Equatable {
        case accepted
        case rejected(String)
        case undelivered
    }

    /// A publication whose every event is settled, with the outcome its receipt reports.
    struct Completion {
        var receipt: ReceiptState
        var outcome: Outcome
    }

    fileprivate final class Item {
        /// Released once every event is settled, so finished items hold no memory.
        var events: [Event]
        var sizes: [Int]
        let count: Int
        let totalBytes: Int
        let receipt: ReceiptState
        let lane: PublishLane
        var taken = 0
        var settled = 0
        var worst: Outcome = .accepted

        init(events: [Event], sizes: [Int], receipt: ReceiptState, lane: PublishLane) {
            self.events = events
            self.sizes = sizes
            self.totalBytes = sizes.reduce(0, +)
            self.count = events.count
            self.receipt = receipt
            self.lane = lane
        }

        var isSettled: Bool { settled == count }
    }

    /// One lane's publications not yet settled, oldest first; `items[takeIndex...]` still have
    /// untaken events.
    fileprivate struct Lane {
        var items: Deque<Item> = []
        var takeIndex = 0
        var queuedEvents = 0
        var queuedBytes = 0
        var untakenEvents = 0
    }

    let capacity: Int
    let maxBytes: Int
    /// The regular lane's room beyond a full queue.
    var regularCapacity: Int { max(1, capacity / 4) }
    var regularMaxBytes: Int { max(1, maxBytes / 4) }
    /// Regular publications first, then bulk ones: batches are taken in that order.
    private var lanes = [Lane(), Lane()]
    /// Events queued and not yet settled (including those in a batch being written).
    var queuedEvents: Int { lanes[0].queuedEvents + lanes[1].queuedEvents }
    var queuedBytes: Int { lanes[0].queuedBytes + lanes[1].queuedBytes }
    /// Events not yet taken into a batch.
    var untakenEvents: Int { lanes[0].untakenEvents + lanes[1].untakenEvents }
    /// Bulk events not yet taken into a batch.
    var untakenBulkEvents: Int { lanes[Self.index(.bulk)].untakenEvents }

    /// - Parameters: capacity and maxBytes are at least 1.
    init(capacity: Int, maxBytes: Int) {
        self.capacity = max(1, capacity)
        self.maxBytes = max(1, maxBytes)
    }

    private static func index(_ lane: PublishLane) -> Int { lane == .regular ? 0 : 1 }

    /// Whether `count` more events of `bytes` would overfill the queue, by events or by size. An
    /// empty queue takes anything, so that one huge publication cannot wait forever.
    ///
    /// A regular publication is also taken when only the whole queue is full, as long as its
    /// own lane stays within a quarter of the limits: a backfill keeping the queue full does not
    /// hold up a poll's new alerts, and the queue holds at most 1¼ × `capacity` (and bytes).
    func isFull(adding count: Int, bytes: Int, lane: PublishLane = .bulk) -> Bool {
        let whole = queuedEvents > 0 && (queuedEvents + count > capacity || queuedBytes + bytes > maxBytes)
        guard whole, lane == .regular else { return whole }
        let regular = lanes[Self.index(.regular)]
        return regular.queuedEvents > 0
            && (regular.queuedEvents + count > regularCapacity || regular.queuedBytes + bytes > regularMaxBytes)
    }

    mutating func append(_ events: [Event], sizes: [Int], receipt: ReceiptState, lane: PublishLane = .bulk) {
        guard !events.isEmpty else { return }
        let item = Item(events: events, sizes: sizes, receipt: receipt, lane: lane)
        let i = Self.index(lane)
        lanes[i].items.append(item)
        lanes[i].queuedEvents += item.count
        lanes[i].queuedBytes += item.totalBytes
        lanes[i].untakenEvents += item.count
    }

    /// Whether the untaken events add up to at least `limit` bytes.
    func untakenBytesReach(_ limit: Int) -> Bool {
        var total = 0
        for lane in lanes {
            for index in lane.takeIndex..<lane.items.count {
                let item = lane.items[index]
                for size in item.sizes[item.taken...] {
                    total += size
                    if total >= limit { return true }
                }
            }
        }
        return false
    }

    /// Takes the next batch, the regular lane's publications first, each lane in publication
    /// order: at most `maxEvents` events and, unless the first event alone is larger, at most
    /// `maxBytes` bytes.
    mutating func takeBatch(maxEvents: Int, maxBytes: Int) -> Batch {
        var batch = Batch()
        for i in lanes.indices where batch.count < maxEvents && (batch.isEmpty || batch.bytes < maxBytes) {
            take(from: &lanes[i], into: &batch, maxEvents: maxEvents, maxBytes: maxBytes)
        }
        return batch
    }

    private func take(from lane: inout Lane, into batch: inout Batch, maxEvents: Int, maxBytes: Int) {
        while lane.takeIndex < lane.items.count && batch.count < maxEvents {
            let item = lane.items[lane.takeIndex]
            var taken = 0
            while item.taken < item.count && batch.count < maxEvents {
                let size = item.sizes[item.taken]
                if !batch.isEmpty && batch.bytes + size > maxBytes { break }
                batch.events.append(item.events[item.taken])
                batch.bytes += size
                item.taken += 1
                taken += 1
            }
            lane.untakenEvents -= taken
            if taken > 0 { batch.parts.append((item, taken)) }
            guard item.taken == item.count else { break }
            lane.takeIndex += 1
            if batch.bytes >= maxBytes { break }
        }
    }

    /// Records how `batch` fared and returns the publications it finished. Space is freed.
    mutating func settle(_ batch: Batch, _ outcome: Outcome) -> [Completion] {
        var completions: [Completion] = []
        for (item, count) in batch.parts {
            let i = Self.index(item.lane)
            item.settled += count
            lanes[i].queuedEvents -= count
            item.worst = Self.worse(item.worst, outcome)
            guard item.isSettled else { continue }
            item.events = []
            item.sizes = []
            lanes[i].queuedBytes -= item.totalBytes
            completions.append(Completion(receipt: item.receipt, outcome: item.worst))
        }
        for i in lanes.indices {
            while let first = lanes[i].items.first, first.isSettled, lanes[i].takeIndex > 0 {
                lanes[i].items.removeFirst()
                lanes[i].takeIndex -= 1
            }
        }
        return completions
    }

    /// Undelivered outranks rejected, which outranks accepted; the first rejection's reason stays.
    private static func worse(_ a: Outcome, _ b: Outcome) -> Outcome {
        switch (a, b) {
        case (.undelivered, _), (.rejected, .accepted), (.rejected, .rejected): return a
        default: return b
        }
    }
}
