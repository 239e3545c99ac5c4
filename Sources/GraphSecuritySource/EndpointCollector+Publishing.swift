import CollectorCore

extension EndpointCollector {
    /// How many of a page's items are normalized before their events are published. A page of
    /// 1,000 alerts normalized whole holds all their events until the last is made, beside the
    /// sinks' copy of the page before; in parts, the sinks write the first while the next is
    /// made, so a backfill holds a fraction of that (Benchmarks/README.md, "Memory, fourth pass").
    static let itemsPerPublication = 250

    /// Normalizes `answer`'s items part by part and publishes each part's events as it goes,
    /// recording each publication in `progress`. Only the page's last publication carries the
    /// newest time it reaches (`newest`); the earlier ones carry `previous`, what the pages before
    /// reached, so progress never claims part of a page. Returns what the whole page shows,
    /// without its events.
    func processAndPublish(
        _ answer: GraphAnswer, query: String, previous: Timestamp?, checkpoint cp: inout EndpointCheckpoint,
        progress: inout ProgressTracker, publisher: any EventPublisher, lane: PublishLane
    ) async throws -> PageOutcome {
        await takePageTurn()
        defer { givePageTurnBack() }
        // A window cancelled while this slice waited publishes nothing more.
        try Task.checkCancellation()
        let items = answer.page.items
        var page = PageOutcome()
        page.isPartial = answer.status == 206
        page.isEmpty = items.isEmpty
        // The newest part with events waits for the next one, so the page's last publication is
        // known to be the last.
        var waiting: PageOutcome?
        var start = 0
        repeat {
            let end = min(items.count, start + Self.itemsPerPublication)
            let part = processor.process(
                status: answer.status, items: Array(items[start..<end]), firstIndex: start,
                warnings: start == 0 ? answer.warnings : [], query: query, observedAt: .now(),
                recentKeys: &cp.recentKeys)
            page.absorb(part)
            if !part.events.isEmpty {
                if let earlier = waiting {
                    try await publish(
                        earlier, newest: previous, endsPage: false, progress: &progress, publisher: publisher,
                        lane: lane)
                }
                waiting = part
            }
            start = end
        } while start < items.count
        if let last = waiting {
            let newest = page.newest.map { max(previous ?? $0, $0) } ?? previous
            try await publish(
                last, newest: newest, endsPage: true, progress: &progress, publisher: publisher, lane: lane)
        }
        return page
    }

    private func publish(
        _ part: PageOutcome, newest: Timestamp?, endsPage: Bool, progress: inout ProgressTracker,
        publisher: any EventPublisher, lane: PublishLane
    ) async throws {
        progress.published(
            try await publisher.publish(part.events, lane: lane), keys: part.newKeys, newest: newest, endsPage: endsPage
        )
        status.update(stream: stream) { $0.eventsPublished += part.events.count }
    }

    /// One page at a time is normalized and published, whole: slices whose pages interleaved
    /// part by part would each hold their page's body meanwhile. The turn goes to the slices in
    /// the order they asked for it.
    private func takePageTurn() async {
        if pageTurnTaken {
            await withCheckedContinuation { pageTurnWaiting.append($0) }  // handed over taken
        } else {
            pageTurnTaken = true
        }
    }

    private func givePageTurnBack() {
        if pageTurnWaiting.isEmpty {
            pageTurnTaken = false
        } else {
            pageTurnWaiting.removeFirst().resume()
        }
    }
}
