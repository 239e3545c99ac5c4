import CollectorCore
import CurlTransport
import Foundation
import Logging

/// One answer of a Graph list endpoint.
struct GraphAnswer: Sendable {
    var status: Int
    var page: GraphPage
    var warnings: [String]
}

/// Sends Graph requests for one tenant: bearer token (refreshed before expiry, and once on a
/// 401 for the same page), the tenant's rate limit, and retries of 429/503 (honouring
/// `Retry-After`, seconds or HTTP-date), other 5xx, network errors and unreadable bodies, with
/// exponential backoff and full jitter. A page is retried as the same URL: paging never restarts.
final class GraphClient: Sendable {
    let http: HTTPClient
    let tokens: TokenProvider
    let limiter: RateLimiter
    let retry: RetryPolicy
    let maxAttempts: Int
    let logger: Logger

    init(http: HTTPClient, tokens: TokenProvider, limiter: RateLimiter, retry: RetryPolicy, maxAttempts: Int, logger: Logger) {
        self.http = http
        self.tokens = tokens
        self.limiter = limiter
        self.retry = retry
        self.maxAttempts = maxAttempts
        self.logger = logger
    }

    /// GETs a list page. Throws after `maxAttempts` transient failures, or at once for errors a
    /// retry cannot fix (authentication, 400).
    func list(_ url: String) async throws -> GraphAnswer {
        var attempt = 0
        var refreshedAfter401 = false
        while true {
            try Task.checkCancellation()
            attempt += 1
            do {
                return try await once(url, forceRefresh: false)
            } catch let error as GraphError {
                if error.kind == .authentication, error.status == 401, error.code != "token", attempt < maxAttempts {
                    // The token expired or was revoked between pages: refresh and retry the same
                    // page. The first refresh is free; repeated 401s count as attempts, so a real
                    // permission problem still ends the poll.
                    if !refreshedAfter401 { attempt -= 1 }
                    refreshedAfter401 = true
                    logger.info("token rejected; refreshing and retrying the same page", metadata: ["url": "\(Self.redact(url))"])
                    _ = try await tokens.refresh()
                    if attempt > 0 { try await Task.sleep(for: retry.delay(forAttempt: attempt)) }
                    continue
                }
                guard error.kind == .transient || error.kind == .network || error.kind == .malformedResponse, attempt < maxAttempts else {
                    throw error
                }
                let delay = error.retryAfter ?? retry.delay(forAttempt: attempt)
                if error.status == 429, let after = error.retryAfter { await limiter.pause(for: after) }
                logger.warning(
                    "Graph request failed; retrying the same page",
                    metadata: ["url": "\(Self.redact(url))", "attempt": "\(attempt)", "retry_in": "\(delay)", "error": "\(error)"])
                try await Task.sleep(for: delay)
            }
        }
    }

    private func once(_ url: String, forceRefresh: Bool) async throws -> GraphAnswer {
        let token = try await tokens.current()
        try await limiter.acquire()
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(url: url, headers: [
                ("Authorization", "Bearer \(token.value)"), ("Accept", "application/json"),
                ("Prefer", "odata.maxpagesize=\(1000)"),
            ]))
        } catch {
            if error.kind == .cancelled { throw CancellationError() }
            throw GraphError(kind: error.isRetryable ? .network : .malformedResponse, status: nil, code: "network", message: error.description, url: url)
        }
        switch response.status {
        case 200, 206:
            do {
                let page = try GraphPage(body: response.body)
                return GraphAnswer(status: response.status, page: page, warnings: response.values("Warning"))
            } catch {
                throw GraphError(kind: .malformedResponse, status: response.status, code: "malformed_body", message: "\(error)", url: url)
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
            case 408, 429, 500...599: kind = .transient
            default: kind = .badRequest
            }
            throw GraphError(kind: kind, status: response.status, code: code, message: message, url: url, retryAfter: retryAfter)
        }
    }

    /// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
    static func parseRetryAfter(_ value: String) -> Duration? { HTTPResponse.parseRetryAfter(value) }

    /// A URL for logs: the path and query only.
    static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let slash = url[schemeEnd.upperBound...].firstIndex(of: "/") else { return url }
        return String(url[slash...]).removingPercentEncoding ?? String(url[slash...])
    }
}

/// Test access to the client's parsing helpers.
public enum GraphClientTesting {
    public static func retryAfter(_ value: String) -> Duration? { GraphClient.parseRetryAfter(value) }
}
