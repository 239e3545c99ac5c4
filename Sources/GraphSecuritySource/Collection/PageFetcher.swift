import CollectorCore
import CollectorSystem
import Foundation
import Logging

/// Pages through one window, fetching the next page while the current one is published.
///
/// - **By time** (alerts_v2, incidents): each next page asks again for `lastUpdate ge <newest
///   time seen>`, oldest first, and the page processor drops what was seen. Offset paging
///   (nextLink) over a list that changes while it is paged skips items: an alert updated during
///   the paging moves to the end, and every later page starts one item further on. Time-boundary
///   paging does not. Graph's nextLink is followed only where time cannot advance (an empty page,
///   or a full page of one timestamp).
/// - **By nextLink** (legacy v1: federated, its pages need not be in one time order), as Graph
///   gives it; ``ShiftWatch`` covers what an update during the paging may have made it skip.
///
/// Both lower `$top` when Graph refuses it ("The limit of 'N' for Top query has been exceeded"),
/// and continue by time when Graph refuses its own nextLink ("SkipToken is not allowed").
struct PageFetcher {
    let client: any GraphListing
    let query: WindowQuery
    let logger: Logger
    let from: Timestamp
    /// Each answer's place among the pages held between fetch and publication, in the lane the
    /// pages go to (backfill pages leave places to regular polls); a prefetched page holds one too.
    let place: PagePlace
    /// Whether the next page is asked for while this one is published. A window collected in
    /// parallel slices does not: the slices already overlap their waits on Graph, and a page
    /// ahead per slice would double the pages held for no more speed.
    let prefetching: Bool
    private(set) var pageSize: Int
    /// The URL the next ``fetch()`` asks for.
    private(set) var url: String
    /// The newest last-update time paged through, where a time-boundary restart begins.
    var lastTime: Timestamp?
    private var prefetched: (url: String, task: Task<GraphAnswer, any Error>)?

    init(
        client: any GraphListing, query: WindowQuery, from: Timestamp, pageSize: Int, place: PagePlace,
        prefetching: Bool = true, logger: Logger
    ) {
        self.client = client
        self.place = place
        self.prefetching = prefetching
        self.query = query
        self.from = from
        self.pageSize = pageSize
        self.logger = logger
        url = query.url(from: from, top: pageSize)
    }

    /// The answer for ``url``, holding a ``place``: the caller gives it back once the
    /// page is published. The next page is requested in the background meanwhile (it takes a
    /// place of its own once its request may go out).
    mutating func fetch() async throws -> GraphAnswer {
        while true {
            do {
                let answer = try await take(url)
                if !prefetching {
                    return answer
                } else if let next = answer.page.nextLink, !pagesByTime {
                    prefetch(next)
                } else if answer.page.nextLink != nil, pagesByTime, let newest = newest(in: answer) {
                    // The next page by time is known as soon as this one is: ask for it now.
                    prefetch(query.url(from: newest, top: pageSize))
                }
                return answer
            } catch let error as GraphError where error.kind == .badRequest {
                if let limit = Self.topLimit(in: error.message), limit < pageSize {
                    logger.warning(
                        "the API refused $top=\(pageSize); lowering it to \(limit)",
                        metadata: ["endpoint": "\(query.endpoint.rawValue)"])
                    pageSize = limit
                    url = query.url(from: lastTime ?? from, top: pageSize)
                    continue
                }
                if error.message.contains("SkipToken"), let lastTime {
                    // nextLink paging broke (Graph's 2024 SkipToken regression): continue by time.
                    logger.warning(
                        "nextLink paging was refused; continuing with time-boundary paging",
                        metadata: [
                            "endpoint": "\(query.endpoint.rawValue)", "from": "\(lastTime)",
                        ])
                    url = query.url(from: lastTime, top: pageSize)
                    continue
                }
                throw error
            }
        }
    }

    /// Whether pages are chained by time rather than by nextLink.
    var pagesByTime: Bool { query.endpoint != .alerts }

    /// Moves to the page after `answer`, whose newest item is at `newest` (nil: no item), the
    /// newest time before it having been `previous`. Returns false when the window is done.
    mutating func advance(after answer: GraphAnswer, newest: Timestamp?, previous: Timestamp?) -> Bool {
        guard let next = answer.page.nextLink else { return false }
        if pagesByTime, let newest, previous.map({ newest > $0 }) ?? true {
            url = query.url(from: newest, top: pageSize)
        } else {
            url = next
        }
        return true
    }

    /// Where a window may stop early after `answer` (more pages follow, paged by time, and time
    /// has moved past `from`): the newest time paged; nil when it may not.
    func stopPoint(after answer: GraphAnswer, from: Timestamp) -> Timestamp? {
        guard answer.page.nextLink != nil, pagesByTime, let lastTime, lastTime > from else { return nil }
        return lastTime
    }

    /// Stops the background request, if any; the place its answer holds goes back.
    mutating func cancel() {
        guard let ahead = prefetched else { return }
        prefetched = nil
        ahead.task.cancel()
        let place = place
        // Cancelled before its answer it holds no place; answered already, it holds one.
        Task { if (try? await ahead.task.value) != nil { place.giveBack() } }
    }

    /// Requests `next` in the background.
    private mutating func prefetch(_ next: String) {
        let client = client
        let place = place
        prefetched = (next, Task { try await client.list(next, holding: place) })
    }

    /// The answer for `url`, holding a place: the prefetched one if it was for `url`.
    private mutating func take(_ url: String) async throws -> GraphAnswer {
        guard let ahead = prefetched, ahead.url == url else {
            cancel()
            return try await client.list(url, holding: place)
        }
        prefetched = nil
        return try await withTaskCancellationHandler {
            try await ahead.task.value
        } onCancel: {
            ahead.task.cancel()
        }
    }

    /// The newest last-update time among an answer's items (as the normalizer will read it).
    func newest(in answer: GraphAnswer) -> Timestamp? {
        var newest: Timestamp?
        for item in answer.page.items {
            guard let text = item.member(query.endpoint.lastUpdatedProperty)?.stringValue,
                let t = Timestamp(iso8601: text)
            else { continue }
            if newest.map({ t > $0 }) ?? true { newest = t }
        }
        return newest
    }

    /// "The limit of '50' for Top query has been exceeded" → 50.
    static func topLimit(in message: String) -> Int? {
        guard message.contains("for Top query"), let open = message.range(of: "limit of '") else { return nil }
        guard let limit = Int(message[open.upperBound...].prefix { $0.isNumber }), limit > 0 else { return nil }
        return limit
    }
}

/// The list query of one window: `$filter` on the last-update time (and a provider, and the
/// user's own filter), ascending, `$top`.
struct WindowQuery: Sendable {
    var graphURL: String
    var apiVersion: String
    var endpoint: GraphEndpoint
    var to: Timestamp
    var provider: String?
    var userFilter: String?
    /// Incidents with their alerts (`$expand=alerts`).
    var expandAlerts = false

    func filter(from: Timestamp) -> String {
        let property = endpoint.lastUpdatedProperty
        var filter =
            "\(property) ge \(from.iso8601(fractionDigits: 7)) and \(property) le \(to.iso8601(fractionDigits: 7))"
        if let provider {
            filter += " and vendorInformation/provider eq '\(provider.replacingOccurrences(of: "'", with: "''"))'"
        }
        if let user = userFilter, !user.isEmpty { filter += " and (\(user))" }
        return filter
    }

    /// The first page's URL, oldest first; with `count`, asks for `@odata.count` instead.
    func url(from: Timestamp, top: Int, count: Bool = false) -> String {
        var items = [
            ("$filter", filter(from: from)), ("$orderby", "\(endpoint.lastUpdatedProperty) asc"), ("$top", String(top)),
        ]
        if count { items.append(("$count", "true")) }
        if expandAlerts && endpoint == .incidents && !count { items.append(("$expand", "alerts")) }
        let query = items.map { "\($0.0)=\(PercentEncoding.encode($0.1, keeping: ":/"))" }.joined(separator: "&")
        return "\(graphURL)/\(apiVersion)/security/\(endpoint.rawValue)?\(query)"
    }
}
