package import CollectorCore

/// What collecting one window proved, page by page.
///
/// The 206 rule: a 206 Partial Content answer proves only what its page shows. The providers its
/// `Warning` header names owe the whole window. And the whole endpoint owes the window again
/// (re-collected de-duplicated) when a 206 had no items, when paging ended on a 206 (its missing
/// nextLink may be the failing provider's doing), or when a 206 named no provider at all.
package struct WindowResult: Sendable {
    /// Every provider named on any page, the last status for each.
    package private(set) var failures: [ProviderFailure] = []
    package private(set) var partialPages = 0
    package private(set) var emptyPartialPages = 0
    package private(set) var endedOnPartial = false
    /// Distinct alert ids seen in the window (published or already delivered), when kept.
    package private(set) var ids: Set<String> = []
    /// Whether ``ids`` is kept: a window paged by time and not audited never asks, and a
    /// backfill's ids would grow with it.
    private let keepsIDs: Bool
    package private(set) var alerts = 0
    package private(set) var duplicates = 0
    /// Where collection stopped early (a page limit), more pages following: the newest time paged.
    package var stoppedAt: Timestamp?
    /// The oldest last-update time any page showed.
    package private(set) var oldestSeen: Timestamp?

    package init(keepingIDs: Bool = true) { keepsIDs = keepingIDs }

    /// Why the whole endpoint owes the window again, or nil when the pages proved it.
    package var wholeWindowOwedBecause: String? {
        if emptyPartialPages > 0 { return "a 206 Partial Content answer had no items" }
        if endedOnPartial { return "paging ended on a 206 Partial Content answer" }
        if partialPages > 0 && failures.isEmpty { return "a 206 Partial Content answer named no provider" }
        return nil
    }

    /// Whether the range paged owes nothing: no 206, no provider failing.
    package var owesNothing: Bool { failures.isEmpty && partialPages == 0 }

    /// The same result without its ids (the bulk of a long window's), when nothing will ask.
    package func forgettingIDs() -> WindowResult {
        var copy = self
        copy.ids = []
        return copy
    }

    /// Records a page. A 206 that names only providers given up on (`ignoring`) proves what a 200
    /// would: their failures no longer hold anything back.
    package mutating func record(_ page: PageOutcome, isLast: Bool, ignoring givenUp: Set<String> = []) {
        let partial =
            page.isPartial && (page.failures.isEmpty || page.failures.contains { !givenUp.contains($0.provider) })
        if partial {
            partialPages += 1
            if page.isEmpty { emptyPartialPages += 1 }
        }
        if isLast { endedOnPartial = partial }
        for failure in page.failures {
            if let i = failures.firstIndex(where: { $0.provider == failure.provider }) {
                failures[i] = failure
            } else {
                failures.append(failure)
            }
        }
        if keepsIDs { ids.formUnion(page.ids) }
        if let oldest = page.oldest, oldestSeen.map({ oldest < $0 }) ?? true { oldestSeen = oldest }
        alerts += page.alerts
        duplicates += page.duplicates
    }
}
