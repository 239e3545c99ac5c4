package import CollectorCore

/// What offset paging (nextLink) may have skipped, and how to notice it.
///
/// Legacy v1 alerts are paged by nextLink: Graph's pages are offsets into a list that can change
/// while it is paged. An alert updated during the paging leaves its place (its new version is
/// later than the window), so every later page starts one item further on, and one alert of the
/// window is never shown. The skipped alert is invisible; the moved one is not: its new version
/// turns up in a later window, dated while the first was being paged, under an id that window
/// showed. Then the first window is owed again (de-duplicated, it repeats nothing delivered).
package struct ShiftWatch: Sendable {
    package struct Watched: Sendable {
        package var scope: CollectionScope
        package var from: Timestamp
        package var to: Timestamp
        package var pagingStarted: Timestamp
        package var pagingEnded: Timestamp
        package var ids: Set<String>
        /// Some pages were 206: alerts of failing providers were hidden, and an update to one of
        /// them shifts the offsets as well, under an id the window never showed.
        package var hadPartialPages = false

        package init(
            scope: CollectionScope, from: Timestamp, to: Timestamp, pagingStarted: Timestamp, pagingEnded: Timestamp,
            ids: Set<String>, hadPartialPages: Bool = false
        ) {
            self.hadPartialPages = hadPartialPages
            self.scope = scope
            self.from = from
            self.to = to
            self.pagingStarted = pagingStarted
            self.pagingEnded = pagingEnded
            self.ids = ids
        }
    }

    /// How far a version's date may stray from when the update happened (Graph dates some
    /// versions before they become visible): the collector's overlap, which exists for that.
    package var margin: Duration
    package private(set) var watched: [Watched] = []

    package init(margin: Duration) { self.margin = margin }

    /// Watches a window just paged by nextLink.
    package mutating func watch(_ window: Watched) {
        guard !window.ids.isEmpty || window.hadPartialPages else { return }
        watched.append(window)
    }

    /// The windows a page's alert versions prove may have skipped an alert; they stop being
    /// watched (they are collected again, and watched again then).
    package mutating func suspects(among versions: [(id: String, lastUpdate: Timestamp)]) -> [Watched] {
        guard !watched.isEmpty, !versions.isEmpty else { return [] }
        var found: [Watched] = []
        watched.removeAll { w in
            let lower = w.pagingStarted.adding(.zero - margin)
            let upper = w.pagingEnded.adding(margin)
            let hit = versions.contains { v in
                v.lastUpdate >= lower && v.lastUpdate <= upper && (w.hadPartialPages || w.ids.contains(v.id))
            }
            if hit { found.append(w) }
            return hit
        }
        return found
    }

    /// Stops watching windows whose paging ended well before `time`: a version dated after
    /// that cannot be from an update during their paging, and every version dated before it
    /// has been collected.
    package mutating func forget(before time: Timestamp) {
        watched.removeAll { $0.pagingEnded.adding(margin) < time }
    }
}
