package import CollectorCore

/// One part of a backfill window (both ends included), or a range of one that a graceful stop
/// found collected (``EndpointCheckpoint/collected``).
package struct WindowSlice: Sendable, Equatable {
    package var from: Timestamp
    package var to: Timestamp

    package init(from: Timestamp, to: Timestamp) {
        self.from = from
        self.to = to
    }
}

extension EndpointCollector.Settings {
    /// How many slices a backfill window is cut into per slice collected at once, when its
    /// density is not known: finer than the parallelism, so a slice dense with alerts does not
    /// leave the others idle, and the checkpoint moves more often.
    static let slicesPerParallelSlot = 4
    /// Pages a slice should hold, judged by the first page: a bigger backfill gets more slices,
    /// not bigger ones, so what a slice keeps in memory (its ids, its keys) stays the same.
    /// Each slice ends on a page that is not full, one request more than its alerts need: at
    /// Graph's throttle that is the cost of a slice, so slices are few and long.
    static let pagesPerSlice = 32.0
    static let mostSlices = 10_000
    /// No slice is shorter than this.
    static let shortestSlice: Duration = .seconds(60)

    /// The sinks' lane for a window's pages: a window longer than `sliceAfter` (an hour when
    /// slicing is off) is a backfill, whose pages make way for other streams' new alerts.
    package func lane(from start: Timestamp, to end: Timestamp) -> PublishLane {
        end.duration(since: start) > (sliceAfter ?? .seconds(3600)) ? .bulk : .regular
    }

    /// The slices of a new window, oldest first, or nil when it is collected whole: it is not
    /// longer than `sliceAfter`, or it is legacy v1 (federated, paged by nextLink: its pages need
    /// not follow time, so a slice's end proves nothing).
    ///
    /// Neighbouring slices share their boundary instant (both filters are inclusive), so an alert
    /// dated exactly there is collected twice rather than never.
    ///
    /// `pageSpan` is the time one full page covered (the first page's), when known.
    package func slices(from start: Timestamp, to end: Timestamp, pageSpan: Duration? = nil) -> [WindowSlice]? {
        guard let sliceAfter, endpoint != .alerts, parallelSlices > 1 else { return nil }
        let length = end.duration(since: start)
        guard length > sliceAfter else { return nil }
        // Whole waves of `parallelSlices` where the window is long enough for them: 4 slices 3 at
        // a time would end with one slice paged alone, at a third of the rate (164 % of the
        // throttle bound, measured).
        func wholeWaves(_ n: Int) -> Int { n >= parallelSlices ? n / parallelSlices * parallelSlices : n }
        let byLength = wholeWaves(Int(length / Self.shortestSlice))
        var wanted = parallelSlices * Self.slicesPerParallelSlot
        if let pageSpan, pageSpan > .zero {
            let pages = min(length / pageSpan, 1e9)
            let bySize = Int((pages / Self.pagesPerSlice).rounded(.up))
            let waves = (max(1, bySize) + parallelSlices - 1) / parallelSlices
            wanted = min(wholeWaves(Self.mostSlices), waves * parallelSlices)
        }
        let count = max(2, min(wanted, byLength))
        let span = end.nanosecondsSinceEpoch - start.nanosecondsSinceEpoch
        var slices: [WindowSlice] = []
        var from = start
        for i in 1...count {
            let to =
                i == count
                ? end : Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + span / Int64(count) * Int64(i))
            slices.append(WindowSlice(from: from, to: to))
            from = to
        }
        return slices
    }
}

extension EndpointCollector {
    /// A backfill window, slice by slice: `parallelSlices` at a time, each its own chain of pages
    /// (by time, oldest first) under the tenant's one rate limiter, so paging latency no longer
    /// bounds the rate. Each slice returns once the sinks accepted everything it published; the
    /// checkpoint then moves to the end of the newest slice whose predecessors were all accepted
    /// too, never past an unaccepted one. A slice that fails ends the window (the others are
    /// cancelled); the next poll starts from what the checkpoint reached.
    func collectSlices(
        _ slices: [WindowSlice], now: Timestamp, checkpoint cp: inout EndpointCheckpoint,
        publisher: any EventPublisher
    ) async throws {
        guard !slices.isEmpty else { return }
        logger.info(
            "backfill: collecting the window in \(slices.count) slices, \(settings.parallelSlices) at a time",
            metadata: [
                "endpoint": "\(settings.endpoint.rawValue)", "from": "\(slices[0].from)",
                "to": "\(slices[slices.count - 1].to)",
            ])
        let base = cp
        let (accepted, finished, stopped) = try await withThrowingTaskGroup(of: SliceOutcome.self) { group in
            var finished: [Int: (result: WindowResult, keys: [String: Int64])] = [:]
            var stopped: [Int: SliceStopped] = [:]
            var accepted = 0
            var started = 0
            func startNext() {
                let index = started
                let slice = slices[index]
                started += 1
                group.addTask {
                    var own = base
                    do {
                        let result = try await self.collect(
                            from: slice.from, to: slice.to, provider: nil, checkpoint: &own, publisher: publisher,
                            asSlice: true)
                        return .done(index, result, own.recentKeys)
                    } catch let stop as SliceStopped {
                        return .stopped(index, stop)
                    }
                }
            }
            // At most `parallelSlices` in flight, and never more than twice that ahead of the
            // checkpoint: a slow slice holds the others back rather than piling up finished ones.
            func startWhatMay() {
                let parallel = settings.parallelSlices
                while !stop.isRequested, started < slices.count, started - accepted - finished.count < parallel,
                    started - accepted < 2 * parallel
                {
                    startNext()
                }
            }
            startWhatMay()
            while let outcome = try await group.next() {
                switch outcome {
                case .stopped(let index, let stop): stopped[index] = stop
                case .done(let index, let result, let keys):
                    // What account(for:) needs: the ids only for an audit.
                    finished[index] = (settings.audit ? result : result.forgettingIDs(), keys)
                }
                while let done = finished.removeValue(forKey: accepted) {
                    let slice = slices[accepted]
                    cp.recentKeys.merge(done.keys) { max($0, $1) }
                    await account(
                        for: done.result, from: slice.from, to: slice.to, now: now, checkpoint: &cp,
                        publisher: publisher)
                    cp.watermark = slice.to
                    prune(&cp)
                    try await save(cp)
                    status.update(stream: stream) { $0.watermark = slice.to }
                    accepted += 1
                }
                startWhatMay()
            }
            return (accepted, finished, stopped)
        }
        if stop.isRequested && accepted < slices.count {
            try await stopSlices(slices, accepted: accepted, finished: finished, stopped: stopped, checkpoint: &cp)
        }
    }

    /// A graceful stop in the middle of a backfill: the range of every slice whose pages were all
    /// accepted, with nothing owed (no 206) and no audit to run, joins the checkpoint's collected
    /// ranges (the restart collects around them) with the keys the slice kept, and the watermark
    /// moves into the first unfinished slice as far as it was accepted, when it owes nothing.
    /// A slice with pages not accepted gives nothing: its alerts are collected again. No range
    /// reaches into the overlap before the window's end, which the next window asks for again
    /// (alerts that Graph shows late).
    private func stopSlices(
        _ slices: [WindowSlice], accepted: Int, finished: [Int: (result: WindowResult, keys: [String: Int64])],
        stopped: [Int: SliceStopped], checkpoint cp: inout EndpointCheckpoint
    ) async throws -> Never {
        let latest = slices[slices.count - 1].to.adding(.zero - settings.overlap)
        func record(_ index: Int, to end: Timestamp) {
            guard !settings.audit else { return }
            cp.collected.record(WindowSlice(from: slices[index].from, to: min(end, latest)))
        }
        for (index, done) in finished {
            cp.recentKeys.merge(done.keys) { max($0, $1) }
            if done.result.owesNothing { record(index, to: slices[index].to) }
        }
        for (index, stop) in stopped {
            guard let keys = stop.keys else { continue }
            cp.recentKeys.merge(keys) { max($0, $1) }
            // The first unfinished slice moves the watermark instead (below).
            if index != accepted, stop.owesNothing, let reached = stop.reached { record(index, to: reached) }
        }
        if let first = stopped[accepted], first.keys != nil, first.owesNothing, let reached = first.reached,
            reached > slices[accepted].from
        {
            cp.watermark = reached
        }
        prune(&cp)
        try await save(cp)
        logger.info(
            "stopped for shutdown in a backfill; checkpointed what the sinks accepted",
            metadata: [
                "endpoint": "\(settings.endpoint.rawValue)", "up_to": "\(cp.watermark)",
                "slices_done": "\(accepted + finished.count) of \(slices.count)",
                "ranges_collected_ahead": "\(cp.collected.count)",
            ])
        throw CancellationError()
    }
}

/// How one slice ended.
enum SliceOutcome: Sendable {
    case done(Int, WindowResult, [String: Int64])
    case stopped(Int, SliceStopped)
}

/// A slice stopped for a graceful shutdown: its keys when everything it published was accepted
/// (nil otherwise), the newest time it published, and whether what it paged owes nothing (no
/// 206, no provider failing).
struct SliceStopped: Error, Sendable {
    var keys: [String: Int64]?
    var reached: Timestamp?
    var owesNothing: Bool

    init(_ progress: ProgressTracker, keys: [String: Int64], result: WindowResult) async {
        let all = await progress.allAccepted()
        self.keys = all ? keys : nil
        self.reached = all ? progress.newestPublished : nil
        owesNothing = result.owesNothing
    }
}
