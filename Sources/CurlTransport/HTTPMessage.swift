/// An HTTP request for ``HTTPClient``.
package struct HTTPRequest: Sendable {
    package var method: String
    package var url: String
    package var headers: [(String, String)]
    package var body: [UInt8]?
    /// Called when the request goes out: its connection is ready and its first byte is about to
    /// be sent (after any wait for a connection; again if a redirect sends it anew). It runs on
    /// the engine's thread and must return at once: the Graph source reports the moment to its
    /// rate limiter, which counts requests from when they leave.
    package var onSend: (@Sendable () -> Void)?

    package init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        onSend: (@Sendable () -> Void)? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.onSend = onSend
    }
}

/// An HTTP response: status, every header line in order (a header that repeats, like `Warning`,
/// appears once per line; folded continuation lines are joined), and the body, decoded if the
/// server compressed it.
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// The URL that answered (after redirects).
    package var effectiveURL: String
    /// `HTTP/2` or `HTTP/1.1`.
    package var httpVersion: String

    package init(
        status: Int, headers: [(name: String, value: String)], body: [UInt8], effectiveURL: String = "",
        httpVersion: String = "HTTP/1.1"
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.effectiveURL = effectiveURL
        self.httpVersion = httpVersion
    }

    /// Every value of a header, case-insensitively, in the order received.
    package func values(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headers.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    /// The first value of a header.
    package func value(_ name: String) -> String? { values(name).first }

    package var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request got no HTTP answer.
package struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// Could not resolve, connect or finish TLS.
        case connect
        /// The connect or total timeout passed.
        case timeout
        /// The body was larger than the configured limit.
        case bodyTooLarge(limit: Int)
        /// TLS verification failed (certificate, host name, CA).
        case tls
        /// The request was cancelled.
        case cancelled
        /// Anything else libcurl reported.
        case other
    }

    package var kind: Kind
    /// libcurl's code and its explanation.
    package var code: Int32
    package var message: String
    package var url: String

    /// Connection failures and timeouts may pass; the rest will not by retrying.
    package var isRetryable: Bool {
        switch kind {
        case .connect, .timeout, .other: return true
        case .bodyTooLarge, .tls, .cancelled: return false
        }
    }

    package var description: String {
        switch kind {
        case .bodyTooLarge(let limit):
            return
                "the response from \(url) is larger than the limit of \(limit) bytes (raise max_body_size if this is "
                + "expected)"
        default:
            return "request to \(url) failed: \(message) (curl error \(code))"
        }
    }
}

extension HTTPResponse {
    /// The `Retry-After` header as a delay, if present and readable (see ``RetryAfter``).
    package var retryAfter: Duration? { value("Retry-After").flatMap { RetryAfter.parse($0) } }

    /// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), capped at one hour.
    package static func parseRetryAfter(_ value: String) -> Duration? { RetryAfter.parse(value) }
}
