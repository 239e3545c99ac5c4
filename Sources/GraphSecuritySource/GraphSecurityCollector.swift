public import CollectorCore
import CollectorSystem
import CurlTransport
import Foundation
import Logging

/// `type: graph-security`: collects alerts and incidents from the Microsoft Graph Security API.
public struct GraphSecurityCollector: Source {
    let configuration: Configuration
    let cloud: GraphCloud
    let http: HTTPClient
    let context: SourceContext

    /// The collectors of these tenants' endpoints, stopped by `stop`, sharing `pages`.
    func collectors(_ tenants: [Tenant], stop: StopRequest, pages: PageBudget) -> [EndpointCollector] {
        var result: [EndpointCollector] = []
        for tenant in tenants {
            let tokens = TokenProvider(
                cloud: cloud, tenant: tenant.tenantId, clientId: tenant.clientId,
                credential: tenant.credential(tokenURL: cloud.tokenURL(tenant: tenant.tenantId)), http: http)
            let limiter = RateLimiter(perMinute: configuration.requestsPerMinute)
            var logger = context.logger
            logger[metadataKey: "tenant"] = "\(tenant.tenantId)"
            let client = GraphClient(
                http: http, tokens: tokens, limiter: limiter, retry: configuration.retry,
                maxAttempts: configuration.maxAttempts, logger: logger, userAgent: configuration.userAgent,
                fence: context.coordination == nil ? nil : stop)
            for endpoint in configuration.endpoints {
                var settings = EndpointCollector.Settings(
                    tenant: tenant.tenantId, endpoint: endpoint, graphURL: cloud.graphURL,
                    apiVersion: configuration.apiVersion,
                    pageSize: configuration.pageSize[endpoint.rawValue] ?? endpoint.maximumPageSize,
                    filter: configuration.filter,
                    lag: configuration.ingestionLag.duration, overlap: configuration.overlap.duration,
                    lookBack: configuration.lookBack.duration, giveUpAfter: configuration.providerGiveUpAfter.duration,
                    maxRecentKeys: 500_000, sourceName: context.name)
                settings.expandAlerts = configuration.expandAlerts
                settings.audit = configuration.audit && endpoint != .alerts
                let sliceAfter = configuration.sliceBackfillAfter.duration
                settings.sliceAfter = sliceAfter > .zero ? sliceAfter : nil
                settings.parallelSlices = configuration.parallelSlices
                settings.pages = pages
                let local = CheckpointFile(
                    path: "\(context.stateDirectory)/\(Self.safe(tenant.tenantId))/\(endpoint.rawValue).checkpoint.json"
                )
                let store: any CheckpointStorage =
                    context.coordination?.checkpoint(
                        source: context.name, unit: tenant.tenantId, name: endpoint.rawValue, local: local) ?? local
                result.append(
                    EndpointCollector(
                        settings: settings, client: client, store: store, logger: logger, status: context.status,
                        stop: stop))
            }
        }
        return result
    }

    /// What the configuration cannot do in this run: collect until caught up in a fleet, where
    /// each instance collects what it owns for as long as it owns it.
    static func check(_ configuration: Configuration, in context: SourceContext) throws {
        if context.coordination != nil && configuration.stopWhenCaughtUp {
            throw SourceStopped(reason: "source '\(context.name)': stop_when_caught_up does not go with coordination:")
        }
    }

    static func safe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
