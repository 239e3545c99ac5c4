import CollectorCore
import Logging

extension EndpointCollector {
    /// How often a long window (a backfill) checkpoints what the sinks have accepted so far, so a
    /// crash or restart mid-window repeats seconds of work, not the whole window.
    static let progressInterval: Duration = .seconds(1)

    /// Collects [from, to] (optionally one provider only) and waits until the sinks accepted it.
    /// With `saveProgress` (the new window), pages are ordered by time, so once a prefix of them
    /// is accepted the checkpoint can move to the newest time in that prefix; that is saved every
    /// ``progressInterval`` until a page is partial (a 206 makes the window owed, which is
    /// recorded only when the window ends). With `pageLimit`, stops after that many pages when
    /// more follow, and says where in ``WindowResult/stoppedAt``. As a slice of a backfill
    /// (`asSlice`), a graceful stop waits for what it published and throws ``SliceStopped`` with
    /// its keys, for the backfill to checkpoint.
    func collect(
        from: Timestamp, to: Timestamp, provider: String?, checkpoint cp: inout EndpointCheckpoint,
        publisher: any EventPublisher, saveProgress: Bool = false, pageLimit: Int? = nil, asSlice: Bool = false
    ) async throws -> WindowResult {
        var progress = ProgressTracker(keepingKeys: !asSlice)
        let lane = asSlice ? .bulk : settings.lane(from: from, to: to)
        var fetcher = PageFetcher(
            client: client, query: settings.query(to: to, provider: provider), from: from,
            pageSize: pageSize, place: PagePlace(settings.pages, lane), prefetching: !asSlice, logger: logger)
        var result = WindowResult(keepingIDs: !fetcher.pagesByTime || settings.audit)
        defer { fetcher.cancel() }
        var lastProgress = ContinuousClock.now
        let startWatermark = cp.watermark
        var savedProgress: Timestamp?
        var progressAllowed = saveProgress
        // Paged by time, the same page again comes right after itself; a nextLink chain (legacy
        // v1) may cycle over many pages, so there every page of the window counts.
        var repeats = RepeatedPages(remembering: fetcher.pagesByTime ? 4 : Int.max)
        let pagingStarted = Timestamp.now()
        var shiftedItself = false
        var pages = 0
        var lastPage: GraphPage.QueueSize?
        while true {
            if asSlice, let lastPage { await waitForRoom(after: lastPage, publisher: publisher) }
            try Task.checkCancellation()
            if stop.isRequested {
                if asSlice { throw await SliceStopped(progress, keys: cp.recentKeys, result: result) }
                try await stopGracefully(
                    progress, checkpoint: cp, allowed: progressAllowed, startWatermark: startWatermark)
            }
            guard let answer = try await nextAnswer(&fetcher) else { continue }  // stopping: see above
            lastPage = answer.page.queueSize
            defer { fetcher.place.giveBack() }  // at the end of this page's turn: it is published
            pageSize = fetcher.pageSize
            let previous = fetcher.lastTime
            let page = try await processAndPublish(
                answer, query: GraphClient.redact(fetcher.url), previous: previous, checkpoint: &cp,
                progress: &progress, publisher: publisher, lane: lane)
            if !fetcher.pagesByTime, !shiftedItself {
                shiftedItself = noteShiftOfItself(page, result, provider: provider, from, to, since: pagingStarted)
            }
            result.record(page, isLast: answer.page.nextLink == nil, ignoring: Set(cp.abandoned.keys))
            report(page)
            noteShifts(shiftWatch.suspects(among: page.versions))
            trace(page, answer: answer, provider: provider, url: fetcher.url)
            repeats.note(page.ids)
            if let newest = page.newest { fetcher.lastTime = max(previous ?? newest, newest) }
            // Out of time order (not what Graph documents for these endpoints) or partial: saving
            // progress could skip alerts, so this window is checkpointed only when it ends.
            if let oldest = page.oldest, let saved = savedProgress, oldest < saved { progressAllowed = false }
            if page.isPartial { progressAllowed = false }
            if progressAllowed, progress.count > 2, ContinuousClock.now - lastProgress >= Self.progressInterval {
                let reached = try await saveAcceptedProgress(&progress, checkpoint: &cp, startWatermark: startWatermark)
                savedProgress = reached ?? savedProgress
                lastProgress = ContinuousClock.now
            }
            pages += 1
            if asSlice { pruneSliceKeys(&cp, fetcher, progress, from: from, result) }
            if let pageLimit, pages >= pageLimit, let reached = fetcher.stopPoint(after: answer, from: from) {
                result.stoppedAt = reached
                break
            }
            guard fetcher.advance(after: answer, newest: page.newest, previous: previous) else { break }
            if repeats.pagesWithoutProgress > 3 {
                throw PagingStuck(endpoint: settings.endpoint.rawValue, at: fetcher.lastTime)
            }
        }
        fetcher.cancel()  // a page fetched ahead past a page limit is not wanted, nor held meanwhile
        _ = try await progress.settle()
        if !fetcher.pagesByTime {
            shiftWatch.watch(
                ShiftWatch.Watched(
                    scope: provider.map(CollectionScope.provider) ?? .wholeEndpoint, from: from, to: to,
                    pagingStarted: pagingStarted, pagingEnded: .now(), ids: result.ids,
                    hadPartialPages: result.partialPages > 0))
        }
        return result
    }

    /// Before a slice asks for its next page: room in the sinks' queues for a page like its last
    /// from each of the `parallel_slices`. While the sinks are behind, the slices then hold about
    /// what the queues can take, instead of filling them and each holding one more page on top.
    private func waitForRoom(after page: GraphPage.QueueSize, publisher: any EventPublisher) async {
        await publisher.waitForRoom(
            publications: settings.parallelSlices, events: page.events, bytes: page.bytes, lane: .bulk)
    }

    /// The fetcher's next answer; nil when a stop came while it waited for a page's place (the
    /// loop's next turn stops the window).
    private func nextAnswer(_ fetcher: inout PageFetcher) async throws -> GraphAnswer? {
        do {
            return try await fetcher.fetch()
        } catch is PagesStopped where stop.isRequested {
            return nil
        }
    }

    /// Settles all but the two newest pages (they keep the sinks busy meanwhile) and saves the
    /// checkpoint up to what the sinks accepted; the time reached, when it moved.
    private func saveAcceptedProgress(
        _ progress: inout ProgressTracker, checkpoint cp: inout EndpointCheckpoint, startWatermark: Timestamp
    ) async throws -> Timestamp? {
        let reached = try await progress.settle(keeping: 2)
        try await saveProgressCheckpoint(
            cp, reached: reached, unsettled: progress.unsettledKeys, startWatermark: startWatermark)
        guard let reached, reached > startWatermark else { return nil }
        // Keys older than the overlap before what is accepted can never be seen again in this
        // window: drop them, so a long backfill's memory does not grow with it.
        prune(&cp, watermark: reached)
        return reached
    }

    /// After each page of a slice paged by time without a 206: drops the keys the slice cannot
    /// see again, so its memory does not grow with it. Kept are those within the overlap before
    /// the newest time it published (where a graceful stop may put the watermark; the pages it
    /// asks for next begin at or after that time), and those dated at its start or before: a
    /// restart after a graceful stop that found this slice done
    /// (``EndpointCheckpoint/collected``) asks for its start instant again.
    private func pruneSliceKeys(
        _ cp: inout EndpointCheckpoint, _ fetcher: PageFetcher, _ progress: ProgressTracker, from start: Timestamp,
        _ result: WindowResult
    ) {
        guard fetcher.pagesByTime, result.partialPages == 0,
            let newest = progress.newestPublished ?? fetcher.lastTime
        else { return }
        prune(&cp, watermark: newest, keepingUpTo: start)
    }

    /// A window paged by nextLink that shows an update of its own alerts becomes owed again;
    /// true when it did.
    private func noteShiftOfItself(
        _ page: PageOutcome, _ result: WindowResult, provider: String?, _ from: Timestamp, _ to: Timestamp,
        since pagingStarted: Timestamp
    ) -> Bool {
        guard showsUpdate(page, duringPagingOf: result, since: pagingStarted) else { return false }
        noteShifts([
            ShiftWatch.Watched(
                scope: provider.map(CollectionScope.provider) ?? .wholeEndpoint, from: from, to: to,
                pagingStarted: pagingStarted, pagingEnded: .now(), ids: [])
        ])
        return true
    }

    /// A second version of an alert within one nextLink paging: it was updated meanwhile, which
    /// may have shifted this window's offsets. (With 206 pages, the updated alert may be one the
    /// window never showed: then any version dated during this paging counts.)
    private func showsUpdate(_ page: PageOutcome, duringPagingOf result: WindowResult, since pagingStarted: Timestamp)
        -> Bool
    {
        let pagingFloor = pagingStarted.adding(.zero - settings.overlap)
        return page.versions.contains {
            result.ids.contains($0.id) || (result.partialPages > 0 && $0.lastUpdate >= pagingFloor)
        }
    }

    private func trace(_ page: PageOutcome, answer: GraphAnswer, provider: String?, url: String) {
        logger.trace(
            "page",
            metadata: [
                "endpoint": "\(settings.endpoint.rawValue)", "status": "\(answer.status)",
                "items": "\(answer.page.items.count)", "new": "\(page.alerts)", "provider": "\(provider ?? "-")",
                "more": "\(answer.page.nextLink != nil)", "ids": "\(page.ids.sorted().joined(separator: ","))",
                "url": "\(GraphClient.redact(url))",
            ])
    }

    /// Windows an update during their nextLink paging may have shifted become owed again.
    private func noteShifts(_ suspects: [ShiftWatch.Watched]) {
        for w in suspects {
            let message =
                "an alert was updated while an earlier window was paged by nextLink, which can skip another alert; "
                + "collecting that window again"
            logger.notice(
                "\(message)",
                metadata: [
                    "endpoint": "\(settings.endpoint.rawValue)", "scope": "\(w.scope)", "from": "\(w.from)",
                    "to": "\(w.to)",
                ])
            suspectWindows.append(
                OwedWindow(scope: w.scope, from: w.from, to: w.to, firstFailure: .now(), lastStatus: 200, attempts: 1))
        }
    }

    /// Graceful shutdown: waits for what is published (the sinks are still working), checkpoints
    /// it when progress may be saved, and stops.
    private func stopGracefully(
        _ progress: ProgressTracker, checkpoint cp: EndpointCheckpoint, allowed: Bool,
        startWatermark: Timestamp
    ) async throws -> Never {
        if allowed, await progress.allAccepted() {
            try await saveProgressCheckpoint(
                cp, reached: progress.newestPublished, unsettled: [], startWatermark: startWatermark)
            logger.info(
                "stopped for shutdown; checkpointed what the sinks accepted",
                metadata: [
                    "endpoint": "\(settings.endpoint.rawValue)",
                    "up_to": "\(progress.newestPublished?.description ?? "-")",
                ])
        }
        throw CancellationError()
    }

    /// Logs and counts what a page showed.
    private func report(_ page: PageOutcome) {
        delivered += page.alerts
        duplicatesDropped += page.duplicates
        warningsSeen += page.failures.count
        if page.unreadableFields > 0 || !page.failures.isEmpty {
            status.update(stream: stream) { s in
                s.fieldsLeftOut += page.unreadableFields
                for f in page.failures { s.warningsByProvider["\(f.vendor)/\(f.provider)", default: 0] += 1 }
            }
        }
        for failure in page.failures {
            logger.warning(
                "provider failed behind a 206 Partial Content answer; its window will be collected again",
                metadata: [
                    "provider": "\(failure.vendor)/\(failure.provider)", "status": "\(failure.status)",
                    "endpoint": "\(settings.endpoint.rawValue)",
                ])
        }
    }

    /// Saves `cp` with its watermark moved to `reached` (alerts up to there are accepted), and
    /// without the duplicate keys of the pages not yet accepted, so a restart collects those again.
    private func saveProgressCheckpoint(
        _ cp: EndpointCheckpoint, reached: Timestamp?, unsettled: [String],
        startWatermark: Timestamp
    ) async throws {
        guard let reached, reached > startWatermark else { return }
        var progress = cp
        for key in unsettled { progress.recentKeys[key] = nil }
        progress.watermark = reached
        prune(&progress)
        try await store.save(progress.json)
        // A poll that fails later in this window starts again from here, not from the window.
        checkpoint = progress
        status.update(stream: stream) { $0.watermark = reached }
    }

    /// Drops duplicate keys older than the overlap before the watermark (or `watermark`), but
    /// never those an owed window may see again, nor those dated `start` or before; drops the
    /// collected ranges the watermark passed.
    func prune(_ cp: inout EndpointCheckpoint, watermark: Timestamp? = nil, keepingUpTo start: Timestamp? = nil) {
        let cutoff = (watermark ?? cp.watermark).adding(.zero - settings.overlap - .seconds(1)).nanosecondsSinceEpoch
        let oldestPending = cp.pending.map(\.from.nanosecondsSinceEpoch).min() ?? Int64.max
        let keep = min(cutoff, oldestPending)
        let early = start?.nanosecondsSinceEpoch ?? Int64.min
        cp.recentKeys = cp.recentKeys.filter { $0.value >= keep || $0.value <= early }
        cp.collected.removeAll { $0.to <= cp.watermark }
        if cp.recentKeys.count > settings.maxRecentKeys {
            let sorted = cp.recentKeys.sorted { $0.value > $1.value }.prefix(settings.maxRecentKeys)
            cp.recentKeys = Dictionary(uniqueKeysWithValues: sorted.map { ($0.key, $0.value) })
        }
    }

    func save(_ cp: EndpointCheckpoint) async throws {
        checkpoint = cp
        try await store.save(cp.json)
    }

    func loadCheckpoint() async throws -> EndpointCheckpoint {
        if let checkpoint { return checkpoint }
        if let saved = try await store.load() {
            guard let c = EndpointCheckpoint(json: saved) else {
                throw SourceStopped(
                    reason: "checkpoint '\(store.location)' is not a checkpoint; move it away to start over")
            }
            checkpoint = c
            status.update(stream: stream) {
                $0.watermark = c.watermark
                $0.pendingWindows = c.pending.count
            }
            logger.info(
                "resuming from checkpoint",
                metadata: [
                    "endpoint": "\(settings.endpoint.rawValue)", "watermark": "\(c.watermark)",
                    "pending_windows": "\(c.pending.count)",
                ])
            return c
        }
        let c = EndpointCheckpoint(watermark: Timestamp.now().adding(.zero - settings.lookBack))
        checkpoint = c
        return c
    }

    /// The completeness audit of a closed window: Graph's `$count` for it against the distinct
    /// alerts seen in it. A shortfall makes the whole window owed, and says so.
    func audit(
        _ result: WindowResult, from: Timestamp, to: Timestamp, now: Timestamp, checkpoint cp: inout EndpointCheckpoint,
        publisher: any EventPublisher
    ) async {
        let url = settings.query(to: to, provider: nil).url(from: from, top: 1, count: true)
        let count: Int
        do {
            guard let c = try await client.list(url).page.count else {
                logger.warning(
                    "the audit's $count answer had no @odata.count; skipping the audit",
                    metadata: ["endpoint": "\(settings.endpoint.rawValue)"])
                return
            }
            count = c
        } catch {
            logger.warning(
                "the audit's $count request failed; skipping the audit of this window",
                metadata: [
                    "endpoint": "\(settings.endpoint.rawValue)", "error": "\(error)",
                ])
            return
        }
        status.update(stream: stream) { $0.auditedWindows += 1 }
        guard count > result.ids.count else { return }
        let missing = count - result.ids.count
        scheduler.add(
            OwedWindow(scope: .wholeEndpoint, from: from, to: to, firstFailure: now, lastStatus: 200, attempts: 1),
            to: &cp.pending)
        status.update(stream: stream) { $0.auditShortfalls += 1 }
        let message =
            "audit: Graph counts \(count) alerts in \(settings.endpoint.rawValue) for "
            + "\(from.iso8601(fractionDigits: 0))…"
            + "\(to.iso8601(fractionDigits: 0)), the collector saw \(result.ids.count); the window is collected again"
        logger.warning("\(message)", metadata: ["tenant": "\(settings.tenant)"])
        _ = try? await publisher.publish([
            .health(
                CollectorHealth(
                    component: "source:\(settings.sourceName)", level: .warning, code: "audit_shortfall",
                    message: message,
                    details: [
                        "endpoint": settings.endpoint.rawValue, "tenant": settings.tenant, "graph_count": String(count),
                        "seen": String(result.ids.count), "missing": String(missing),
                    ]))
        ])
    }
}

/// Pages that show only alerts the last few pages showed: paging makes no progress.
struct RepeatedPages {
    private var recent: [Set<String>] = []
    private(set) var pagesWithoutProgress = 0
    let remembering: Int

    init(remembering: Int) { self.remembering = remembering }

    /// Progress is an alert the last pages have not shown (re-collections show only duplicates,
    /// and that is progress too); the same page again is not.
    mutating func note(_ ids: Set<String>) {
        guard !ids.isEmpty else { return }
        let repeated = ids.allSatisfy { id in recent.contains { $0.contains(id) } }
        pagesWithoutProgress = repeated ? pagesWithoutProgress + 1 : 0
        recent.append(ids)
        if recent.count > remembering { recent.removeFirst() }
    }
}

/// Paging returned the same alerts page after page: this window fails (the poll and the other
/// windows go on), and is tried again.
struct PagingStuck: Error, CustomStringConvertible {
    var endpoint: String
    var at: Timestamp?
    var description: String {
        "\(endpoint): paging makes no progress at \(at?.description ?? "?") (Graph returns the same page again; "
            + "more than $top items sharing one time would do it: raise page_size if it is below the maximum)"
    }
}
