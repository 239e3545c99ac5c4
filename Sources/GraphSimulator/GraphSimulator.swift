public import CollectorCore
import FlyingFox
import Foundation
public import GraphSecuritySource

typealias JSON = CollectorCore.JSONValue

/// A Graph Security API look-alike on loopback: the token endpoint, `/security/alerts` (v1,
/// federated, 206 + `Warning` for failing providers), `/security/alerts_v2` and
/// `/security/incidents`, with OData `$filter`/`$orderby`/`$top`/`$skip`, Graph's limits and
/// error bodies, nextLink paging, and scriptable faults. The quickstart collects from it, and
/// the tests prove the collector against it over real HTTP.
public actor GraphSimulator {
    public nonisolated let configuration: SimulatorConfiguration
    private var server: HTTPServer?
    private var serverTask: Task<Void, any Error>?
    /// Every tenant's data, the first tenant's made at start, the others' on their first token.
    var tenantData: [String: SimulatedData] = [:]
    /// The first tenant's data (`tenant_id`), which the faults and the inspection methods use.
    var data: SimulatedData {
        get { tenantData[configuration.tenantId]! }
        set { tenantData[configuration.tenantId] = newValue }
    }
    private let startedAt: Timestamp
    /// Faults drawn request by request (the fault-schedule test); nil: none.
    var faults: FaultSchedule?
    private var apiRequests = 0
    private var skipTokenRequests = 0
    /// API requests of the last 60 s, per tenant (each tenant has its own rate limit, as on Graph).
    private var recentRequests: [String: [Timestamp]] = [:]
    public internal(set) var requests: [RequestRecord] = []
    var providerFailuresLeft: [String: Int?] = [:]
    /// Issued access tokens: when each expires and whose tenant it is.
    var tokens: [String: (expiry: Timestamp, tenant: String)] = [:]
    private var tokenCounter = 0
    public private(set) var baseURL = ""
    /// Counters for tests and for the collector's `test` command.
    public internal(set) var statistics = Statistics()

    public struct Statistics: Sendable {
        public var tokensIssued = 0
        public var apiRequests = 0
        public var throttled = 0
        public var partialAnswers = 0
        public var rejected = 0
    }

    public init(configuration: SimulatorConfiguration = SimulatorConfiguration(), now: Timestamp = .now()) {
        self.configuration = configuration
        self.startedAt = now
        tenantData[configuration.tenantId] = SimulatedData(configuration: configuration, startedAt: now)
        for p in configuration.failingProviders { providerFailuresLeft[p.provider] = .some(p.failures) }
    }

    /// Starts listening on 127.0.0.1 (port 0: any free port); returns the base URL.
    @discardableResult
    public func start(port: UInt16 = 0) async throws -> String {
        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: port), timeout: 60, logger: .disabled)
        let handler = SimulatorHandler(simulator: self)
        await server.appendRoute("*", to: handler)
        self.server = server
        serverTask = Task { try await server.run() }
        try await server.waitUntilListening(timeout: 60)  // a loaded machine may take more than 5 s
        guard case .ip4(_, let boundPort) = await server.listeningAddress else {
            throw SimulatorError(message: "the simulator is not listening")
        }
        baseURL = "http://127.0.0.1:\(boundPort)"
        return baseURL
    }

    /// The URL clients reach the simulator by, when that is not its own (behind a TLS
    /// terminator): nextLinks, `@odata.context`, token URLs and the expected token scope use it.
    public func advertise(_ url: String) {
        baseURL = url
    }

    public func stop() async {
        await server?.stop(timeout: 1)
        serverTask?.cancel()
        server = nil
    }

    /// How many alert versions an endpoint shows right now (what a complete collection delivers).
    public func visibleCount(_ endpoint: GraphEndpoint, now: Timestamp = .now()) -> Int {
        data.visible(endpoint, now: now).count
    }

    /// The ids an endpoint shows right now.
    public func visibleIDs(_ endpoint: GraphEndpoint, now: Timestamp = .now()) -> [String] {
        data.visible(endpoint, now: now).map { record in
            data.json(record, endpoint: endpoint)["id"]?.stringValue ?? ""
        }
    }

    /// Each alert an endpoint of a tenant (nil: the first) shows right now, with its last-update time.
    public func visibleVersions(_ endpoint: GraphEndpoint, tenant: String? = nil, now: Timestamp = .now())
        -> [(id: String, lastUpdate: Timestamp)]
    {
        let data = tenant.flatMap { tenantData[$0] } ?? data
        return data.visible(endpoint, now: now).map { record in
            (data.json(record, endpoint: endpoint)["id"]?.stringValue ?? "", record.lastUpdate)
        }
    }

    /// The body of a Graph list answer holding the first `count` items the endpoint shows,
    /// oldest first, exactly as a request would get them (for benchmarks and fixtures).
    public func samplePage(_ endpoint: GraphEndpoint, count: Int, now: Timestamp = .now()) -> [UInt8] {
        let records = data.visible(endpoint, now: now).prefix(count)
        let body: JSON = .object([
            ("@odata.context", .string("https://graph.microsoft.com/v1.0/$metadata#security/\(endpoint.rawValue)")),
            ("value", .array(records.map { data.json($0, endpoint: endpoint) })),
        ])
        return Array(JSONWriter.string(body).utf8)
    }

    // MARK: Handling

    func handle(method: String, path: String, query: [(String, String)], headers: [String: String], body: Data) async
        -> SimulatorResponse
    {
        if method == "POST", path.hasSuffix("/oauth2/v2.0/token") { return token(path: path, body: body) }
        guard method == "GET" else { return graphError(405, "MethodNotAllowed", "Only GET is supported here.") }
        let endpoint: GraphEndpoint
        switch path {
        case "/v1.0/security/alerts", "/beta/security/alerts": endpoint = .alerts
        case "/v1.0/security/alerts_v2", "/beta/security/alerts_v2": endpoint = .alertsV2
        case "/v1.0/security/incidents", "/beta/security/incidents": endpoint = .incidents
        default: return graphError(404, "ResourceNotFound", "Resource not found for the segment '\(path)'.")
        }
        // Authorization.
        guard let auth = headers["authorization"], auth.hasPrefix("Bearer ") else {
            return graphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        }
        guard let (expiry, tenant) = tokens[String(auth.dropFirst(7))] else {
            return graphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        }
        let now = Timestamp.now()
        guard now < expiry else {
            return graphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        }
        apiRequests += 1
        statistics.apiRequests += 1
        if configuration.recordRequests {
            requests.append(.init(tenant: tenant, agent: headers["user-agent"], at: now))
        }
        if configuration.pageDelay.seconds > 0 { try? await Task.sleep(for: configuration.pageDelay.duration) }
        var options = ListOptions(
            includeUnknownEnumMembers: headers["prefer"]?.contains("include-unknown-enum-members") == true,
            expandAlerts: query.contains { $0.0 == "$expand" && $0.1 == "alerts" },
            count: query.contains { $0.0 == "$count" && $0.1 == "true" })
        if faults != nil, let early = try? ODataQuery(items: query) {
            switch drawFault(endpoint: endpoint, parsed: early, token: String(auth.dropFirst(7)), now: now) {
            case .respond(let response): return response
            case .partial(let fault): options.partial = fault
            case .proceed: break
            }
        }
        if let refusal = rateLimitOrScheduledFault(tenant: tenant, now: now) { return refusal }
        let parsed: ODataQuery
        do {
            parsed = try ODataQuery(items: query)
        } catch {
            statistics.rejected += 1
            return graphError(400, "BadRequest", error.message)
        }
        if let n = configuration.rejectSkipTokenEvery, endpoint == .alerts, parsed.skipToken != nil {
            skipTokenRequests += 1
            if skipTokenRequests % n == 0 {
                statistics.rejected += 1
                return graphError(
                    400, "BadRequest",
                    "Query option 'SkipToken' is not allowed. To allow it, set the 'AllowedQueryOptions' property on "
                        + "EnableQueryAttribute or QueryValidationSettings."
                )
            }
        }
        let limit = min(endpoint.maximumPageSize, configuration.maxPageSize ?? Int.max)
        if let top = parsed.top, top > limit {
            statistics.rejected += 1
            return graphError(
                400, "BadRequest",
                "The limit of '\(limit)' for Top query has been exceeded. The value from the incoming request is "
                    + "'\(top)'."
            )
        }
        if let skip = parsed.skip, skip > 500 {
            statistics.rejected += 1
            return graphError(
                400, "BadRequest",
                "The limit of '500' for Skip query has been exceeded. The value from the incoming request is '\(skip)'."
            )
        }
        return list(
            endpoint: endpoint, path: path, query: query, parsed: parsed, now: now, options: options,
            data: tenantData[tenant] ?? data)
    }

    /// The configured rate limit (a 429 with Retry-After) and the every-n-th-request faults.
    private func rateLimitOrScheduledFault(tenant: String, now: Timestamp) -> SimulatorResponse? {
        if let limit = configuration.rateLimitPerMinute {
            let windowStart = now.adding(seconds: -60)
            var recent = recentRequests[tenant] ?? []
            // Not by position: requests held by page_delay append out of arrival order.
            recent.removeAll { $0 < windowStart }
            if recent.count >= limit {
                statistics.throttled += 1
                let oldest = recent.min() ?? now
                let retry = max(1, Int(60 - (Double(now.nanosecondsSinceEpoch - oldest.nanosecondsSinceEpoch) / 1e9)))
                recentRequests[tenant] = recent
                return graphError(
                    429, "TooManyRequests", "Too many requests.", headers: [("Retry-After", String(retry))])
            }
            recent.append(now)
            recentRequests[tenant] = recent
        }
        if let n = configuration.throttleEvery, apiRequests % n == 0 {
            statistics.throttled += 1
            return graphError(429, "TooManyRequests", "Too many requests.", headers: [("Retry-After", "1")])
        }
        if let n = configuration.revokeTokenEvery, apiRequests % n == 0 {
            return graphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        }
        if let n = configuration.serverErrorEvery, apiRequests % n == 0 {
            return graphError(503, "ServiceUnavailable", "The service is temporarily unavailable.")
        }
        return nil
    }

    private func list(
        endpoint: GraphEndpoint, path: String, query: [(String, String)], parsed: ODataQuery, now: Timestamp,
        options: ListOptions, data: SimulatedData
    ) -> SimulatorResponse {
        // Records are sorted by last update: a time filter on it narrows them by binary search.
        var records = Self.narrowed(data.visible(endpoint, now: now), by: parsed)
        // Federation: which providers this query reaches, and which of them fail now. A failing
        // provider's items are left out of the page; paging itself is over all providers' items,
        // so a healthy provider's items are never skipped.
        var (warnings, failing) = endpoint == .alerts ? federationFailures(parsed) : ([], [])
        var emptyValue = false
        var endsPaging = false
        if case .partial(let providers, let statuses, let empty, let ends) = options.partial {
            for (provider, status) in zip(providers, statuses) where !failing.contains(provider) {
                failing.insert(provider)
                warnings.append("199 - \"Microsoft/\(provider)/\(status)/\(Int.random(in: 5...9000))\"")
            }
            (emptyValue, endsPaging) = (empty, ends)
        }
        // $filter.
        let needsJSON = parsed.conditions.contains { !$0.isTime && $0.property != "vendorInformation/provider" }
        // Time values parsed once per request, not once per record (a million-alert tenant).
        let times = parsed.conditions.map { $0.isTime ? Timestamp(iso8601: $0.value) : nil }
        records = records.filter { record in
            var json: JSON?
            for (index, c) in parsed.conditions.enumerated() {
                if c.isTime {
                    guard let value = times[index] else { return false }
                    let t =
                        (c.property == "createdDateTime" || c.property == "eventDateTime")
                        ? record.created : record.lastUpdate
                    if !ODataQuery.compare(t, c.op, value) { return false }
                } else if c.property == "vendorInformation/provider" {
                    if !ODataQuery.compare(record.provider, c.op, c.value) { return false }
                } else if needsJSON {
                    if json == nil { json = data.json(record, endpoint: endpoint) }
                    var v: JSON? = json
                    for part in c.property.split(separator: "/") { v = v?[String(part)] }
                    guard let text = v?.scalarText, ODataQuery.compare(text, c.op, c.value) else { return false }
                }
            }
            return true
        }
        if let order = parsed.orderBy, !order.ascending { records.reverse() }
        if parsed.orderBy == nil { records.reverse() }  // most recent first, as Graph documents
        let offset = min(parsed.skipToken ?? 0, 1 << 40) + min(parsed.skip ?? 0, 1 << 40)
        let pageSize = max(1, parsed.top ?? min(100, endpoint.maximumPageSize))
        var page = offset < records.count ? Array(records[offset..<min(records.count, offset + pageSize)]) : []
        if !failing.isEmpty { page = page.filter { !failing.contains($0.provider) } }
        if emptyValue { page = [] }
        var body: [(String, JSON)] = [
            ("@odata.context", .string("\(baseURL)/v1.0/$metadata#security/\(endpoint.rawValue)"))
        ]
        if options.count { body.append(("@odata.count", .number(String(records.count)))) }
        body.append(
            ("value", .array(page.map { item(for: $0, endpoint: endpoint, options: options, data: data) })))
        if offset + pageSize < records.count && !endsPaging {
            var items = query.filter { $0.0 != "$skiptoken" && $0.0 != "$skip" }
            items.append(("$skiptoken", String(offset + pageSize)))
            let q = items.map { "\(URLEncoding.encode($0.0))=\(URLEncoding.encode($0.1))" }.joined(separator: "&")
            body.append(("@odata.nextLink", .string("\(baseURL)\(path)?\(q)")))
        }
        var bytes = Array(JSONWriter.string(.object(body)).utf8)
        if let n = configuration.truncateEvery, apiRequests % n == 0 { bytes = Array(bytes.prefix(bytes.count / 2)) }
        var headers: [(String, String)] = [("Content-Type", "application/json; odata.metadata=minimal")]
        for w in warnings { headers.append(("Warning", w)) }
        if !warnings.isEmpty { statistics.partialAnswers += 1 }
        return SimulatorResponse(
            status: warnings.isEmpty && options.partial == nil ? 200 : 206, headers: headers, body: bytes)
    }

    private func token(path: String, body: Data) -> SimulatorResponse {
        let form = Dictionary(URLEncoding.pairs(String(decoding: body, as: UTF8.self)), uniquingKeysWith: { a, _ in a })
        let tenant = path.split(separator: "/").first.map(String.init) ?? ""
        func aad(_ status: Int, _ error: String, _ description: String) -> SimulatorResponse {
            let json: JSON = [
                "error": .string(error), "error_description": .string(description), "error_codes": [],
                "timestamp": .string(Timestamp.now().iso8601(fractionDigits: 0)),
            ]
            return SimulatorResponse(
                status: status, headers: [("Content-Type", "application/json")],
                body: Array(JSONWriter.string(json).utf8))
        }
        guard let index = configuration.tenantIndex(of: tenant) else {
            return aad(
                400, "invalid_request",
                "AADSTS90002: Tenant '\(tenant)' not found. Check to make sure you have the correct tenant ID.")
        }
        guard form["grant_type"] == "client_credentials" else {
            return aad(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
        }
        guard form["client_id"] == configuration.clientId else {
            return aad(
                400, "unauthorized_client",
                "AADSTS700016: Application with identifier '\(form["client_id"] ?? "")' was not found in the directory."
            )
        }
        if let assertion = form["client_assertion"] {
            guard form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" else {
                return aad(400, "invalid_request", "AADSTS50027: Invalid client_assertion_type.")
            }
            guard let certificate = configuration.clientCertificate else {
                return aad(401, "invalid_client", "AADSTS700027: No certificate is registered on the application.")
            }
            if let problem = ClientAssertionVerifier.verify(
                assertion, certificatePEM: certificate, clientId: configuration.clientId,
                tokenURL: "\(baseURL)/\(tenant)/oauth2/v2.0/token")
            {
                return aad(401, "invalid_client", problem)
            }
        } else if form["client_secret"] != configuration.clientSecret {
            return aad(
                401, "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
                    + "client secret value, not the client secret ID."
            )
        }
        guard form["scope"] == "\(baseURL)/.default" else {
            return aad(
                400, "invalid_scope",
                "AADSTS70011: The provided request must include a 'scope' input parameter. The provided value '\(form["scope"] ?? "")' is not valid."
            )
        }
        tokenCounter += 1
        statistics.tokensIssued += 1
        let token = "sim.\(tokenCounter).\(AlertGenerator.mix(UInt64(tokenCounter) ^ configuration.seed))"
        let lifetime = configuration.tokenLifetime.seconds
        tokens[token] = (Timestamp.now().adding(seconds: lifetime), tenant)
        if tenantData[tenant] == nil {
            tenantData[tenant] = SimulatedData(configuration: configuration.forTenant(index), startedAt: startedAt)
        }
        // The access token is a JWT-shaped string with the roles a real one carries.
        let claims: JSON = [
            "roles": ["SecurityEvents.Read.All", "SecurityAlert.Read.All", "SecurityIncident.Read.All"],
            "tid": .string(tenant),
        ]
        let jwt = "eyJhbGciOiJub25lIn0." + Base64URL.encode(Array(JSONWriter.string(claims).utf8)) + "." + token
        tokens[jwt] = tokens[token]
        let json: JSON = [
            "token_type": "Bearer", "expires_in": .number(String(Int(lifetime))),
            "ext_expires_in": .number(String(Int(lifetime))), "access_token": .string(jwt),
        ]
        return SimulatorResponse(
            status: 200, headers: [("Content-Type", "application/json")], body: Array(JSONWriter.string(json).utf8))
    }

    func graphErrorResponse(_ status: Int, _ code: String, _ message: String, headers extra: [(String, String)] = [])
        -> SimulatorResponse
    {
        graphError(status, code, message, headers: extra)
    }

    private func graphError(_ status: Int, _ code: String, _ message: String, headers extra: [(String, String)] = [])
        -> SimulatorResponse
    {
        let json: JSON = [
            "error": [
                "code": .string(code), "message": .string(message),
                "innerError": [
                    "date": .string(Timestamp.now().iso8601(fractionDigits: 0)),
                    "request-id": .string(UUID().uuidString.lowercased()),
                    "client-request-id": .string(UUID().uuidString.lowercased()),
                ],
            ]
        ]
        return SimulatorResponse(
            status: status, headers: [("Content-Type", "application/json")] + extra,
            body: Array(JSONWriter.string(json).utf8))
    }
}

struct SimulatorResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
}

public struct SimulatorError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences("+", "-").replacingOccurrences("/", "_")
            .replacingOccurrences("=", "")
    }
}

struct SimulatorHandler: HTTPHandler {
    let simulator: GraphSimulator

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        var headers: [String: String] = [:]
        for (key, value) in request.headers { headers[key.rawValue.lowercased()] = value }
        let rawQuery = request.target.query(percentEncoded: true)
        let query = URLEncoding.pairs(rawQuery)
        let body = try await request.bodyData
        let answer = await simulator.handle(
            method: request.method.rawValue, path: request.path, query: query, headers: headers, body: body)
        var responseHeaders = HTTPHeaders()
        for (name, value) in answer.headers { responseHeaders.addValue(value, for: HTTPHeader(name)) }
        return FlyingFox.HTTPResponse(
            statusCode: HTTPStatusCode(answer.status, phrase: Self.phrase(answer.status)), headers: responseHeaders,
            body: Data(answer.body))
    }

    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 206: return "Partial Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 429: return "Too Many Requests"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
