import CollectorCore
import CollectorSystem
import CurlTransport
import Foundation

/// The result of `graph-collector test`: one line per step, each passed, warned or failed, with
/// the concrete action to take.
public struct ProtocolTestReport: Sendable {
    public enum Outcome: String, Sendable {
        case passed = "PASS"
        case warning = "WARN"
        case failed = "FAIL"
    }

    public struct Step: Sendable {
        public var outcome: Outcome
        public var title: String
        public var details: [String]
    }

    public var steps: [Step] = []

    /// True when collection would work (warnings allowed).
    public var collectionWouldWork: Bool { !steps.contains { $0.outcome == .failed } }

    mutating func add(_ outcome: Outcome, _ title: String, _ details: [String] = []) {
        steps.append(Step(outcome: outcome, title: title, details: details))
    }

    public var text: String {
        var lines: [String] = []
        for step in steps {
            lines.append("[\(step.outcome.rawValue)] \(step.title)")
            for d in step.details { lines.append("       \(d)") }
        }
        let verdict =
            collectionWouldWork
            ? (steps.contains { $0.outcome == .warning }
                ? "Collection would work, with the warnings above." : "Collection would work.")
            : "Collection would NOT work: fix the failures above."
        lines.append(verdict)
        return lines.joined(separator: "\n")
    }
}

extension GraphSecurityCollector {
    /// Signs in to every tenant and queries each enabled endpoint once, as collection would.
    public func protocolTest() async -> ProtocolTestReport {
        var report = ProtocolTestReport()
        for tenant in configuration.tenants {
            let tokens = TokenProvider(
                cloud: cloud, tenant: tenant.tenantId, clientId: tenant.clientId,
                credential: tenant.credential(tokenURL: cloud.tokenURL(tenant: tenant.tenantId)), http: http)
            let token: TokenProvider.Token
            do {
                token = try await tokens.current()
                let roles =
                    token.roles.isEmpty
                    ? "(the token carries no roles claim)" : token.roles.sorted().joined(separator: ", ")
                let how = tenant.signer.map { "certificate \($0.thumbprint)" } ?? "client secret"
                report.add(
                    .passed,
                    "tenant \(tenant.tenantId): signed in as app \(tenant.clientId) with a \(how) at "
                        + "\(cloud.tokenURL(tenant: tenant.tenantId))",
                    ["token valid for \(token.lifetime) s; application permissions granted: \(roles)"])
            } catch {
                report.add(
                    .failed, "tenant \(tenant.tenantId): sign-in failed",
                    [error.message, Self.advice(forSignIn: error.message)])
                continue
            }
            let limiter = RateLimiter(perMinute: configuration.requestsPerMinute)
            let client = GraphClient(
                http: http, tokens: tokens, limiter: limiter, retry: configuration.retry, maxAttempts: 3,
                logger: context.logger)
            for endpoint in configuration.endpoints {
                await probe(endpoint, client: client, token: token, report: &report)
            }
        }
        await http.shutdown()
        return report
    }

    /// One endpoint: a page of five, a sample event, and each failing provider of a 206.
    private func probe(
        _ endpoint: GraphEndpoint, client: GraphClient, token: TokenProvider.Token, report: inout ProtocolTestReport
    ) async {
        var details: [String] = []
        if !token.roles.isEmpty && !token.roles.contains(endpoint.requiredPermission) {
            details.append(
                "the token lacks \(endpoint.requiredPermission): grant it to the app registration (application "
                    + "permission) with admin consent"
            )
        }
        let now = Timestamp.now()
        let query = WindowQuery(
            graphURL: cloud.graphURL, apiVersion: configuration.apiVersion, endpoint: endpoint,
            to: now.adding(.zero - configuration.ingestionLag.duration), provider: nil,
            userFilter: configuration.filter)
        let url = query.url(
            from: now.adding(.zero - configuration.lookBack.duration), top: min(5, endpoint.maximumPageSize))
        do {
            let answer = try await client.list(url)
            details.insert(
                "HTTP \(answer.status), \(answer.page.items.count) item(s) on a page of $top=5\(answer.page.nextLink != nil ? ", more pages follow" : "")",
                at: 0)
            details.append(
                "page size for collection: "
                    + "$top=\(configuration.pageSize[endpoint.rawValue] ?? endpoint.maximumPageSize)"
            )
            if let first = answer.page.items.first {
                if let alert = try? GraphNormalizer.normalize(first, endpoint: endpoint) {
                    let sample = JSONWriter.string(Event.alert(alert).jsonValue)
                    details.append(
                        "sample event: " + String(sample.prefix(240)) + (sample.count > 240 ? "…" : ""))
                } else {
                    details.append("the first item could not be normalized (no id?)")
                }
            }
            var outcome: ProtocolTestReport.Outcome =
                details.contains { $0.hasPrefix("the token lacks") } ? .warning : .passed
            if answer.status == 206 {
                outcome = .warning
                details += Self.partialDetails(answer, endpoint: endpoint)
            }
            report.add(outcome, "\(endpoint.rawValue): \(GraphClient.redact(url).prefix(120))…", details)
        } catch let error as GraphError {
            details.insert(error.description, at: 0)
            if error.status == 403 || error.status == 401 {
                details.append(
                    "grant the app the \(endpoint.requiredPermission) application permission with admin consent"
                )
            } else if error.kind == .badRequest {
                details.append("check the source's 'filter' and 'page_size'")
            }
            report.add(.failed, "\(endpoint.rawValue): query failed", details)
        } catch {
            report.add(.failed, "\(endpoint.rawValue): query failed", ["\(error)"])
        }
    }

    /// What a 206 said, provider by provider, with the diagnosis of each.
    static func partialDetails(_ answer: GraphAnswer, endpoint: GraphEndpoint) -> [String] {
        let (items, malformed) = WarningHeader.parse(answer.warnings)
        var details = [
            "206 Partial Content: \(items.count) provider(s) failed; their alerts are delivered later, when they "
                + "recover:"
        ]
        for item in items {
            let latency = item.latencyMilliseconds.map(String.init) ?? "?"
            details.append("  \(item.vendor)/\(item.provider): HTTP \(item.status) after \(latency) ms")
            details.append(
                "    "
                    + ProviderDiagnosis.text(
                        status: item.status, vendor: item.vendor, provider: item.provider, endpoint: endpoint))
        }
        for bad in malformed { details.append("  unparsable Warning item: \(bad)") }
        return details
    }

    static func advice(forSignIn message: String) -> String {
        if message.contains("AADSTS7000215") || message.contains("AADSTS7000222") {
            return
                "the client secret is wrong or expired: create a new secret for the app registration and give its "
                + "Value (not its ID)"
        }
        if message.contains("AADSTS700016") {
            return "no app with this client_id in the tenant: check client_id and tenant_id"
        }
        if message.contains("AADSTS90002") || message.contains("AADSTS900023") {
            return "the tenant_id is wrong, or belongs to another cloud (check 'cloud')"
        }
        if message.contains("AADSTS70011") {
            return "the scope is not valid for this cloud: check 'cloud' or 'graph_url'"
        }
        if message.contains("network") || message.contains("curl") {
            return "the sign-in host cannot be reached: check DNS, proxy ('http.proxy') and firewall"
        }
        return "check tenant_id, client_id and the client secret"
    }
}
