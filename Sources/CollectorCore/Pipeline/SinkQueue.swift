import DequeModule

/// One sink's queue, without I/O or waiting: what was published (each publication an item with
/// its receipt), what has been taken into batches, and what is settled. Accounts events and
/// bytes (the events' approximate JSON size) so that ``isFull(adding:bytes:)`` bounds memory.
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
        var taken = 0
        var settled = 0
        var worst: Outcome = .accepted

        init(events: [Event], sizes: [Int], receipt: ReceiptState) {
            self.events = events
            self.sizes = sizes
            self.totalBytes = sizes.reduce(0, +)
            self.count = events.count
            self.receipt = receipt
        }

        var isSettled: Bool { settled == count }
    }

    let capacity: Int
    let maxBytes: Int
    /// Publications not yet settled, oldest first; `items[takeIndex...]` still have untaken events.
    private var items: Deque<Item> = []
    private var takeIndex = 0
    /// Events queued and not yet settled (including those in a batch being written).
    private(set) var queuedEvents = 0
    private(set) var queuedBytes = 0
    /// Events not yet taken into a batch.
    private(set) var untakenEvents = 0

    /// - Parameters: capacity and maxBytes are at least 1.
    init(capacity: Int, maxBytes: Int) {
        self.capacity = max(1, capacity)
        self.maxBytes = max(1, maxBytes)
    }

    /// Whether `count` more events of `bytes` would overfill the queue, by events or by size. An
    /// empty queue takes anything, so that one huge publication cannot wait forever.
    func isFull(adding count: Int, bytes: Int) -> Bool {
        queuedEvents > 0 && (queuedEvents + count > capacity || queuedBytes + bytes > maxBytes)
    }

    mutating func append(_ events: [Event], sizes: [Int], receipt: ReceiptState) {
        guard !events.isEmpty else { return }
        let item = Item(events: events, sizes: sizes, receipt: receipt)
        items.append(item)
        queuedEvents += item.count
        queuedBytes += item.totalBytes
        untakenEvents += item.count
    }

    /// Whether the untaken events add up to at least `limit` bytes.
    func untakenBytesReach(_ limit: Int) -> Bool {
        var total = 0
        for index in takeIndex..<items.count {
            let item = items[index]
            for size in item.sizes[item.taken...] {
                total += size
                if total >= limit { return true }
            }
        }
        return false
    }

    /// Takes the next batch in publication order: at most `maxEvents` events and, unless the
    /// first event alone is larger, at most `maxBytes` bytes.
    mutating func takeBatch(maxEvents: Int, maxBytes: Int) -> Batch {
        var batch = Batch()
        while takeIndex < items.count && batch.count < maxEvents {
            let item = items[takeIndex]
            var taken = 0
            while item.taken < item.count && batch.count < maxEvents {
                let size = item.sizes[item.taken]
                if !batch.isEmpty && batch.bytes + size > maxBytes { break }
                batch.events.append(item.events[item.taken])
                batch.bytes += size
                item.taken += 1
                taken += 1
            }
            if taken > 0 { batch.parts.append((item, taken)) }
            guard item.taken == item.count else { break }
            takeIndex += 1
            if batch.bytes >= maxBytes { break }
        }
        untakenEvents -= batch.count
        return batch
    }

    /// Records how `batch` fared and returns the publications it finished. Space is freed.
    mutating func settle(_ batch: Batch, _ outcome: Outcome) -> [Completion] {
        var completions: [Completion] = []
        for (item, count) in batch.parts {
            item.settled += count
            queuedEvents -= count
            item.worst = Self.worse(item.worst, outcome)
            guard item.isSettled else { continue }
            item.events = []
            item.sizes = []
            queuedBytes -= item.totalBytes
            completions.append(Completion(receipt: item.receipt, outcome: item.worst))
        }
        while let first = items.first, first.isSettled, takeIndex > 0 {
            items.removeFirst()
            takeIndex -= 1
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
