package import CollectorCore
import CollectorSystem
package import CurlTransport
import Foundation
package import Logging

/// One answer of a Graph list endpoint.
package struct GraphAnswer: Sendable {
    package var status: Int
    package var page: GraphPage
    package var warnings: [String]

    package init(status: Int, page: GraphPage, warnings: [String] = []) {
        self.status = status
        self.page = page
        self.warnings = warnings
    }
}

/// What the collection engine needs of Graph: list pages and counts. ``GraphClient`` does it
/// over HTTP; tests script it.
package protocol GraphListing: Sendable {
    /// The answer for a list URL (a first page or a nextLink), after the client's own retries.
    func list(_ url: String) async throws -> GraphAnswer
    /// The same, holding `place` for the answer: taken only once the request may go out (after
    /// the tenant's rate limit), given back before each retry's wait and when this throws. On
    /// return the caller holds it, until the page is published.
    func list(_ url: String, holding place: PagePlace) async throws -> GraphAnswer
}

extension GraphListing {
    /// A Graph without waits of its own (a script) takes the place around the whole answer.
    package func list(_ url: String, holding place: PagePlace) async throws -> GraphAnswer {
        try await place.take()
        do {
            return try await list(url)
        } catch {
            place.giveBack()
            throw error
        }
    }
}

/// Sends Graph requests for one tenant: bearer token (refreshed before expiry, and once on a
/// 401 for the same page), the tenant's rate limit, and retries of 429/503 (honouring
/// `Retry-After`, seconds or HTTP-date), other 5xx, network errors and unreadable bodies, with
/// exponential backoff and full jitter. A page is retried as the same URL: paging never restarts.
package final class GraphClient: GraphListing {
    let http: HTTPClient
    let tokens: TokenProvider
    let limiter: RateLimiter
    let retry: RetryPolicy
    let maxAttempts: Int
    let logger: Logger
    let userAgent: String
    /// In a fleet, the tenant's stop: once requested, no request is sent any more (the tenant
    /// is going to another instance, or its lease may be running out).
    let fence: StopRequest?

    init(
        http: HTTPClient, tokens: TokenProvider, limiter: RateLimiter, retry: RetryPolicy, maxAttempts: Int,
        logger: Logger,
        userAgent: String = "graph-collector/\(CollectorVersion.current)", fence: StopRequest? = nil
    ) {
        self.fence = fence
        self.userAgent = userAgent
        self.http = http
        self.tokens = tokens
        self.limiter = limiter
        self.retry = retry
        self.maxAttempts = maxAttempts
        self.logger = logger
    }

    /// GETs a list page. Throws after `maxAttempts` transient failures, or at once for errors a
    /// retry cannot fix (authentication, 400).
    package func list(_ url: String) async throws -> GraphAnswer { try await list(url, place: nil) }

    package func list(_ url: String, holding place: PagePlace) async throws -> GraphAnswer {
        try await list(url, place: place)
    }

    private func list(_ url: String, place: PagePlace?) async throws -> GraphAnswer {
        var attempt = 0
        var refreshedAfter401 = false
        while true {
            try Task.checkCancellation()
            attempt += 1
            do {
                return try await once(url, place: place)
            } catch let error as GraphError {
                if error.kind == .authentication, error.status == 401, error.code != "token", attempt < maxAttempts {
                    // The token expired or was revoked between pages: refresh and retry the same
                    // page. The first refresh is free; repeated 401s count as attempts, so a real
                    // permission problem still ends the poll.
                    if !refreshedAfter401 { attempt -= 1 }
                    refreshedAfter401 = true
                    logger.info(
                        "token rejected; refreshing and retrying the same page",
                        metadata: ["url": "\(Self.redact(url))"])
                    _ = try await tokens.refresh()
                    if attempt > 0 { try await Task.sleep(for: retry.delay(forAttempt: attempt)) }
                    continue
                }
                guard error.kind == .transient || error.kind == .network || error.kind == .malformedResponse,
                    attempt < maxAttempts
                else {
                    throw error
                }
                let delay = error.retryAfter ?? retry.delay(forAttempt: attempt)
                if error.status == 429, let after = error.retryAfter { limiter.pause(for: after) }
                logger.warning(
                    "Graph request failed; retrying the same page",
                    metadata: [
                        "url": "\(Self.redact(url))", "attempt": "\(attempt)", "retry_in": "\(delay)",
                        "error": "\(error)",
                    ])
                try await Task.sleep(for: delay)
            }
        }
    }

    /// One request; with `place`, returns holding it (taken after the rate limit) and throws
    /// without.
    private func once(_ url: String, place: PagePlace?) async throws -> GraphAnswer {
        let token = try await tokens.current()
        let permit = try await limiter.acquire()
        try await place?.take()
        var held = place != nil
        defer { if held { place?.giveBack() } }
        if let fence, fence.isRequested { throw PagesStopped() }
        let response: HTTPResponse
        let start = ContinuousClock.now
        do {
            response = try await http.send(
                HTTPRequest(
                    url: url,
                    headers: [
                        ("Authorization", "Bearer \(token.value)"), ("Accept", "application/json"),
                        ("User-Agent", userAgent),
                        ("Prefer", Self.prefer(for: url)),
                    ],
                    onSend: { [limiter] in limiter.sent(permit) }))
        } catch {
            if error.kind == .cancelled { throw CancellationError() }
            GraphRequestMetrics.record(url: url, status: nil, since: start)
            throw GraphError(
                kind: error.isRetryable ? .network : .malformedResponse, status: nil, code: "network",
                message: error.description, url: url)
        }
        GraphRequestMetrics.record(url: url, status: response.status, since: start)
        switch response.status {
        case 200, 206:
            do {
                let page = try GraphPage(body: response.body)
                held = false  // the caller's now
                return GraphAnswer(status: response.status, page: page, warnings: response.values("Warning"))
            } catch {
                throw GraphError(
                    kind: .malformedResponse, status: response.status, code: "malformed_body", message: "\(error)",
                    url: url)
            }
        default:
            let json = try? JSONParser.parse(bytes: response.body)
            let code = json?["error"]?["code"]?.stringValue ?? "http_\(response.status)"
            let message = json?["error"]?["message"]?.stringValue ?? String(response.bodyText.prefix(300))
            let retryAfter = response.value("Retry-After").flatMap(Self.parseRetryAfter)
            let kind: GraphError.Kind
            switch response.status {
            case 400: kind = .badRequest
            case 401, 403: kind = .authentication
            case 404, 410: kind = .gone
            case 408, 429, 500...599: kind = .transient
            default: kind = .badRequest
            }
            throw GraphError(
                kind: kind, status: response.status, code: code, message: message, url: url, retryAfter: retryAfter)
        }
    }

    /// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
    static func parseRetryAfter(_ value: String) -> Duration? { HTTPResponse.parseRetryAfter(value) }

    /// A client for one tenant signing in with a client secret (for tests and tools).
    package static func make(
        cloud: GraphCloud, tenant: String, clientId: String, secret: String, http: HTTPClient,
        requestsPerMinute: Int, retry: RetryPolicy, maxAttempts: Int, logger: Logger
    ) -> GraphClient {
        let tokens = TokenProvider(
            cloud: cloud, tenant: tenant, clientId: clientId, credential: .secret(Secret(secret)), http: http,
            refreshMargin: .milliseconds(500))
        return GraphClient(
            http: http, tokens: tokens, limiter: RateLimiter(perMinute: requestsPerMinute), retry: retry,
            maxAttempts: maxAttempts, logger: logger)
    }

    /// The `Prefer` header: Graph's page size, and on alerts_v2 and incidents the enum members
    /// added after v1.0 (`detectionSource: microsoftSentinel`, …), which Graph otherwise hides
    /// as `unknownFutureValue`.
    static func prefer(for url: String) -> String {
        let path = url.split(separator: "?", maxSplits: 1).first ?? ""
        let evolvable = path.hasSuffix("/security/alerts_v2") || path.hasSuffix("/security/incidents")
        return evolvable ? "odata.maxpagesize=1000, include-unknown-enum-members" : "odata.maxpagesize=1000"
    }

    /// A URL for logs: the path and query only.
    static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let slash = url[schemeEnd.upperBound...].firstIndex(of: "/") else {
            return url
        }
        return String(url[slash...]).removingPercentEncoding ?? String(url[slash...])
    }
}

/// Test access to the client's parsing helpers.
package enum GraphClientTesting {
    package static func retryAfter(_ value: String) -> Duration? { GraphClient.parseRetryAfter(value) }
    package static func prefer(_ url: String) -> String { GraphClient.prefer(for: url) }
}
