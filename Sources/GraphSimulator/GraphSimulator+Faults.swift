public import CollectorCore
public import GraphSecuritySource

/// How one list request is answered, besides its OData query.
struct ListOptions: Sendable {
    /// `Prefer: include-unknown-enum-members`: enum members added after v1.0 are shown as they
    /// are; without it Graph shows them as `unknownFutureValue`.
    var includeUnknownEnumMembers = false
    /// Incidents with `$expand=alerts`.
    var expandAlerts = false
    /// `$count=true`: `@odata.count` in the body.
    var count = false
    /// A 206 the fault schedule drew for this request.
    var partial: FaultSchedule.Fault?
}

/// What the fault schedule decided for a request.
enum FaultOutcome: Sendable {
    case proceed
    case respond(SimulatorResponse)
    case partial(FaultSchedule.Fault)
}

extension GraphSimulator {
    /// Draws faults for every following API request from `schedule` (the fault-schedule test).
    public func inject(_ schedule: FaultSchedule) { faults = schedule }

    /// Stops the schedule's updates: from now on the data no longer changes (faults go on).
    public func freeze() { faults?.updatesAllowed = false }

    /// How many faults of each kind the schedule drew.
    public var faultsDrawn: [String: Int] { faults?.drawn ?? [:] }

    /// The duplicate keys (`id@lastUpdate`) of every alert version visible now, per endpoint:
    /// the truth a complete collection must have delivered (the latest version of each alert).
    public func truth(now: Timestamp = .now()) -> [GraphEndpoint: Set<String>] {
        var result: [GraphEndpoint: Set<String>] = [:]
        for endpoint in GraphEndpoint.allCases {
            var keys = Set<String>()
            for record in data.visible(endpoint, now: now) {
                if let alert = try? GraphNormalizer.normalize(data.json(record, endpoint: endpoint), endpoint: endpoint)
                {
                    keys.insert(alert.deduplicationKey)
                }
            }
            result[endpoint] = keys
        }
        return result
    }

    func drawFault(endpoint: GraphEndpoint, parsed: ODataQuery, token: String, now: Timestamp) -> FaultOutcome {
        guard var schedule = faults else { return .proceed }
        let request = FaultSchedule.Request(
            endpoint: endpoint, followsNextLink: parsed.skipToken != nil,
            hasProviderFilter: parsed.conditions.contains { $0.property == "vendorInformation/provider" },
            visibleCount: data.visible(endpoint, now: now).count)
        let fault = schedule.draw(for: request)
        faults = schedule
        switch fault {
        case .none:
            return .proceed
        case .partial:
            return .partial(fault)
        case .throttled(let httpDate):
            statistics.throttled += 1
            return .respond(
                graphErrorResponse(
                    429, "TooManyRequests", "Too many requests.",
                    headers: [("Retry-After", httpDate ? now.imfFixdate : "0")]))
        case .unavailable:
            return .respond(graphErrorResponse(503, "ServiceUnavailable", "The service is temporarily unavailable."))
        case .truncated:
            return .respond(
                SimulatorResponse(
                    status: 200, headers: [("Content-Type", "application/json")],
                    body: Array("{\"value\": [{\"id\": \"cut".utf8)))
        case .revokedToken:
            tokens[token] = nil
            return .respond(
                graphErrorResponse(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."))
        case .forbidden:
            return .respond(graphErrorResponse(403, "Forbidden", "Insufficient privileges to complete the operation."))
        case .skipTokenRefused:
            statistics.rejected += 1
            return .respond(
                graphErrorResponse(
                    400, "BadRequest",
                    "Query option 'SkipToken' is not allowed. To allow it, set the "
                        + "'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings."))
        case .providerFilterRefused:
            statistics.rejected += 1
            return .respond(
                graphErrorResponse(
                    400, "BadRequest",
                    "Invalid filter clause: the property 'vendorInformation/provider' "
                        + "cannot be used in a $filter query for this tenant."))
        case .updateAlert(let index, let late):
            data.update(endpoint, visibleIndex: index, now: now, dated: now.adding(seconds: -Double(late) / 1000))
            return .proceed
        }
    }

    /// The providers failing for this query by the configuration's `failing_providers`, and
    /// their Warning items.
    func federationFailures(_ parsed: ODataQuery) -> ([String], Set<String>) {
        let providerFilter = parsed.conditions.first { $0.property == "vendorInformation/provider" && $0.op == "eq" }?
            .value
        let inScope = providerFilter.map { [$0] } ?? configuration.providers
        var warnings: [String] = []
        var failing = Set<String>()
        for provider in inScope {
            guard let left = providerFailuresLeft[provider] else { continue }
            if let remaining = left, remaining <= 0 { continue }
            failing.insert(provider)
            if let remaining = left { providerFailuresLeft[provider] = .some(remaining - 1) }
            let spec = configuration.failingProviders.first { $0.provider == provider }
            warnings.append("199 - \"Microsoft/\(provider)/\(spec?.status ?? 504)/\(spec?.latencyMilliseconds ?? 10)\"")
        }
        return (warnings, failing)
    }

    /// A record as this request sees it: evolvable enum members hidden unless asked for, alerts
    /// expanded on incidents when asked for.
    func item(
        for record: SimulatedRecord, endpoint: GraphEndpoint, options: ListOptions, data: SimulatedData
    ) -> JSONValue {
        var json = data.json(record, endpoint: endpoint)
        if endpoint == .alertsV2, !options.includeUnknownEnumMembers { json = Self.hidingNewMembers(json) }
        if endpoint == .incidents, options.expandAlerts, case .object(var members) = json {
            var alert = data.json(record, endpoint: .alertsV2)
            if !options.includeUnknownEnumMembers { alert = Self.hidingNewMembers(alert) }
            members.append(("alerts", .array([alert])))
            json = .object(members)
        }
        return json
    }

    static func hidingNewMembers(_ json: JSONValue) -> JSONValue {
        guard case .object(let members) = json else { return json }
        return .object(
            members.map { key, value in
                let evolvable =
                    (key == "detectionSource"
                        && AlertGenerator.evolvableDetectionSources.contains(value.stringValue ?? ""))
                    || (key == "serviceSource"
                        && AlertGenerator.evolvableServiceSources.contains(value.stringValue ?? ""))
                return (key, evolvable ? .string("unknownFutureValue") : value)
            })
    }
}

/// What tests may ask of the simulator's answers without a server.
public enum GraphSimulatorTesting {
    /// An alerts_v2 item as Graph shows it to a request without `Prefer: include-unknown-enum-members`.
    public static func hidingNewMembers(_ item: JSONValue) -> JSONValue { GraphSimulator.hidingNewMembers(item) }
}
