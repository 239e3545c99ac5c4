public import CollectorCore
import CollectorSystem
import CurlTransport
import Foundation

/// How the app proves who it is.
public enum ClientCredential: Sendable {
    case secret(Secret)
    /// A JWT client assertion, already signed (see ``ClientAssertionSigner``).
    case assertion(@Sendable () throws -> String)
}

/// An OAuth2 client-credentials token, cached and refreshed before it expires.
actor TokenProvider {
    struct Token: Sendable {
        var value: String
        var expiresAt: ContinuousClock.Instant
        var roles: [String]
        var lifetime: Int
    }

    let cloud: GraphCloud
    let tenant: String
    let clientId: String
    let credential: ClientCredential
    let http: HTTPClient
    /// Refresh when less than this remains (so a token never expires between pages).
    let refreshMargin: Duration
    private var token: Token?
    private(set) var fetched = 0

    init(
        cloud: GraphCloud, tenant: String, clientId: String, credential: ClientCredential, http: HTTPClient,
        refreshMargin: Duration = .seconds(120)
    ) {
        self.cloud = cloud
        self.tenant = tenant
        self.clientId = clientId
        self.credential = credential
        self.http = http
        self.refreshMargin = refreshMargin
    }

    /// A token valid for at least the refresh margin (or half its lifetime, for short ones).
    func current() async throws(GraphError) -> Token {
        if let token {
            let margin = min(refreshMargin, .seconds(token.lifetime / 2))
            if ContinuousClock.now + margin < token.expiresAt { return token }
        }
        return try await refresh()
    }

    /// Drops the cached token (after a 401) and fetches a new one.
    func refresh() async throws(GraphError) -> Token {
        token = nil
        var form = [("grant_type", "client_credentials"), ("client_id", clientId), ("scope", cloud.scope)]
        switch credential {
        case .secret(let secret): form.append(("client_secret", secret.reveal()))
        case .assertion(let make):
            do {
                form.append(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
                form.append(("client_assertion", try make()))
            } catch {
                throw GraphError(
                    kind: .authentication, status: nil, code: "client_assertion",
                    message: "cannot sign the client assertion: \(error)", url: cloud.tokenURL(tenant: tenant))
            }
        }
        let body = form.map { "\(PercentEncoding.encode($0.0))=\(PercentEncoding.encode($0.1))" }.joined(separator: "&")
        let url = cloud.tokenURL(tenant: tenant)
        let response: HTTPResponse
        let start = ContinuousClock.now
        do {
            response = try await http.send(
                HTTPRequest(
                    method: "POST", url: url,
                    headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                    body: Array(body.utf8)))
        } catch {
            if error.kind != .cancelled { GraphRequestMetrics.record(url: url, status: nil, since: start) }
            throw GraphError(
                kind: error.isRetryable ? .transient : .network, status: nil, code: "network",
                message: error.description, url: url)
        }
        GraphRequestMetrics.record(url: url, status: response.status, since: start)
        let json = try? JSONParser.parse(bytes: response.body)
        guard response.status == 200, let access = json?["access_token"]?.stringValue else {
            // AAD answers {"error": "invalid_client", "error_description": "AADSTS7000215: ..."}.
            let code = json?["error"]?.stringValue ?? "http_\(response.status)"
            let description =
                json?["error_description"]?.stringValue?.split(separator: "\r\n").first.map(String.init)
                ?? response.bodyText.prefix(300).description
            let kind: GraphError.Kind = response.status >= 500 || response.status == 429 ? .transient : .authentication
            throw GraphError(
                kind: kind, status: response.status, code: code,
                message: "sign-in for tenant \(tenant) failed: \(description)", url: url)
        }
        let lifetime = json?["expires_in"]?.intValue ?? Int(json?["expires_in"]?.stringValue ?? "") ?? 3599
        let t = Token(
            value: access, expiresAt: .now + .seconds(lifetime), roles: Self.roles(fromJWT: access), lifetime: lifetime)
        token = t
        fetched += 1
        return t
    }

    /// The `roles` claim of a JWT access token (not verified: for reporting only).
    static func roles(fromJWT jwt: String) -> [String] {
        let parts = jwt.split(separator: ".")
        guard parts.count >= 2 else { return [] }
        var b64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let json = try? JSONParser.parse(bytes: Array(data)) else {
            return []
        }
        return (json["roles"]?.arrayValue ?? []).compactMap(\.stringValue)
    }
}

/// A failed Graph call, classified for the poller: retry later, or tell a person.
public struct GraphError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 429, 5xx, timeouts: retried with backoff.
        case transient
        /// Could not reach the service (DNS, TLS, connection).
        case network
        /// Sign-in or permission failed: a person must act.
        case authentication
        /// The request was rejected (400): a filter or `$top` the API does not accept.
        case badRequest
        /// The endpoint does not exist here (404, 410): retired, or not in this cloud.
        case gone
        /// The answer could not be read (malformed or truncated body).
        case malformedResponse
    }

    public var kind: Kind
    public var status: Int?
    public var code: String
    public var message: String
    public var url: String
    /// The server's `Retry-After`, if it sent one.
    public var retryAfter: Duration?

    public init(kind: Kind, status: Int?, code: String, message: String, url: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.status = status
        self.code = code
        self.message = message
        self.url = url
        self.retryAfter = retryAfter
    }

    public var description: String {
        let statusText = status.map { "HTTP \($0) " } ?? ""
        return "\(statusText)\(code): \(message)"
    }
}
