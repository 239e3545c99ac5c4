public import CollectorCore
public import GraphSecuritySource

/// Faults drawn at random, request by request, from a seed: the same seed gives the same faults
/// for the same sequence of requests. The fault-schedule test runs the real collection against
/// the simulator under a schedule and checks every alert's latest version arrived.
public struct FaultSchedule: Sendable {
    /// What one request gets.
    public enum Fault: Sendable, Equatable, CustomStringConvertible {
        case none
        /// 206 Partial Content naming `providers` (0–3; their items are left out of the page);
        /// `emptyValue`: the page shows no items at all; `endsPaging`: no nextLink.
        case partial(providers: [String], statuses: [Int], emptyValue: Bool, endsPaging: Bool)
        /// 429 with `Retry-After` in seconds (0) or as an HTTP-date (now).
        case throttled(httpDate: Bool)
        case unavailable
        /// 200 with the body cut in half.
        case truncated
        /// 401: the token is revoked (it stays refused until a new one is issued).
        case revokedToken
        /// 403 for this request (a burst of them is a persistent refusal).
        case forbidden
        /// 400 "SkipToken is not allowed" on a nextLink.
        case skipTokenRefused
        /// 400 on a query with a provider filter.
        case providerFilterRefused
        /// An alert (not necessarily on this page) gets a new version, then the request is served.
        /// `lateBy` > 0: the version is dated that many milliseconds ago, as an alert Graph
        /// ingests late (visible only now, but with an earlier last-update time).
        case updateAlert(index: Int, lateBy: Int)

        public var description: String {
            switch self {
            case .none: return "none"
            case .partial(let p, _, let empty, let ends):
                return "206(\(p.count) provider(s)\(empty ? ", empty" : "")\(ends ? ", last" : ""))"
            case .throttled(let date): return date ? "429(date)" : "429(seconds)"
            case .unavailable: return "503"
            case .truncated: return "truncated"
            case .revokedToken: return "401(revoked)"
            case .forbidden: return "403"
            case .skipTokenRefused: return "400(SkipToken)"
            case .providerFilterRefused: return "400(provider filter)"
            case .updateAlert(_, let late): return late > 0 ? "update(late)" : "update"
            }
        }

        /// A short name for counting.
        public var kind: String { description.split(separator: "(").first.map(String.init) ?? description }
    }

    /// What the simulator tells the schedule about a request.
    public struct Request: Sendable {
        public var endpoint: GraphEndpoint
        public var followsNextLink: Bool
        public var hasProviderFilter: Bool
        public var visibleCount: Int
    }

    public let seed: UInt64
    /// Per mille of requests that draw any fault at all.
    public var faultRate: Int
    /// Graph refuses every provider-filtered query (drawn once per seed, one seed in three).
    public var alwaysRefuseProviderFilter: Bool
    /// The providers a 206 may name.
    public var providers: [String]
    /// Alerts change while this is on (``GraphSimulator/freeze()`` turns it off so a collection
    /// can finish against data that no longer moves).
    public var updatesAllowed = true
    /// The most a late version is back-dated, in milliseconds (keep it under the collector's overlap).
    public var maximumLateness = 1000
    private var state: UInt64
    private var forbiddenBurst = 0
    public private(set) var drawn: [String: Int] = [:]

    public init(seed: UInt64, providers: [String], faultRate: Int = 450) {
        self.seed = seed
        self.providers = providers
        self.faultRate = faultRate
        state = AlertGenerator.mix(seed ^ 0xFA17_5EED)
        alwaysRefuseProviderFilter = AlertGenerator.mix(seed ^ 0xF117E5) % 3 == 0
    }

    public mutating func random(_ bound: Int) -> Int {
        state = AlertGenerator.mix(state)
        return Int(state % UInt64(max(1, bound)))
    }

    /// The fault for the next request.
    public mutating func draw(for request: Request) -> Fault {
        let fault = choose(for: request)
        drawn[fault.kind, default: 0] += 1
        return fault
    }

    private mutating func choose(for request: Request) -> Fault {
        if request.hasProviderFilter && alwaysRefuseProviderFilter { return .providerFilterRefused }
        if forbiddenBurst > 0 {
            forbiddenBurst -= 1
            return .forbidden
        }
        guard random(1000) < faultRate else { return .none }
        switch random(100) {
        case 0..<30:
            guard request.endpoint == .alerts else { return random(2) == 0 ? .unavailable : .none }
            let count = random(4)
            var named: [String] = []
            while named.count < count, named.count < providers.count {
                let p = providers[random(providers.count)]
                if !named.contains(p) { named.append(p) }
            }
            let statuses = named.map { _ in [504, 403, 429, 500, 401][random(5)] }
            return .partial(
                providers: named, statuses: statuses, emptyValue: random(4) == 0, endsPaging: random(5) == 0)
        case 30..<42: return .throttled(httpDate: random(2) == 0)
        case 42..<50: return .unavailable
        case 50..<58: return .truncated
        case 58..<65: return .revokedToken
        case 65..<69:
            forbiddenBurst = random(3)
            return .forbidden
        case 69..<78: return request.followsNextLink ? .skipTokenRefused : .none
        case 78..<84: return request.hasProviderFilter ? .providerFilterRefused : .none
        default:
            guard updatesAllowed, request.visibleCount > 0 else { return .none }
            return .updateAlert(
                index: random(request.visibleCount), lateBy: random(2) == 0 ? 0 : random(maximumLateness))
        }
    }
}

extension Timestamp {
    /// RFC 9110's IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    public var imfFixdate: String {
        let c = utcComponents
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return
            "\(days[c.weekday]), \(two(c.day)) \(months[c.month - 1]) \(c.year) "
            + "\(two(c.hour)):\(two(c.minute)):\(two(c.second)) GMT"
    }
}
