package import CollectorCore

/// The parts of a backfill past the watermark that the sinks accepted before a graceful stop
/// (``EndpointCheckpoint/collected``): the restart collects only what lies between them, so a
/// slice needs no keys to have its alerts dropped as repeats.
extension [WindowSlice] {
    /// Joins `range` in: the ranges stay in time order, and ranges that meet or overlap merge.
    package mutating func record(_ range: WindowSlice) {
        guard range.to > range.from else { return }
        var merged = range
        var kept: [WindowSlice] = []
        kept.reserveCapacity(count + 1)
        for r in self {
            if r.to < merged.from || r.from > merged.to {
                kept.append(r)
            } else {
                merged = WindowSlice(from: Swift.min(r.from, merged.from), to: Swift.max(r.to, merged.to))
            }
        }
        let at = kept.firstIndex { $0.from > merged.from } ?? kept.endIndex
        kept.insert(merged, at: at)
        self = kept
    }

    /// These slices without what lies inside `collected` (in time order, apart), oldest first.
    /// A piece keeps the instant where a collected range begins or ends (both filters are
    /// inclusive): an alert dated exactly there is asked for again, and its key drops it.
    package func subtracting(_ collected: [WindowSlice]) -> [WindowSlice] {
        guard !collected.isEmpty else { return self }
        var pieces: [WindowSlice] = []
        for slice in self {
            var from = slice.from
            for range in collected where range.to > from && range.from < slice.to {
                if range.from > from { pieces.append(WindowSlice(from: from, to: range.from)) }
                from = Swift.max(from, range.to)
            }
            if from < slice.to { pieces.append(WindowSlice(from: from, to: slice.to)) }
        }
        return pieces
    }
}
