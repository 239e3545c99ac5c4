/// Where a tenant lives: the national cloud's sign-in and Graph hosts.
public struct GraphCloud: Sendable, Hashable {
    public var loginURL: String
    public var graphURL: String

    public init(loginURL: String, graphURL: String) {
        self.loginURL = loginURL.hasSuffix("/") ? String(loginURL.dropLast()) : loginURL
        self.graphURL = graphURL.hasSuffix("/") ? String(graphURL.dropLast()) : graphURL
    }

    public static let global = GraphCloud(
        loginURL: "https://login.microsoftonline.com", graphURL: "https://graph.microsoft.com")
    /// US Government L4 (GCC High).
    public static let usGov = GraphCloud(
        loginURL: "https://login.microsoftonline.us", graphURL: "https://graph.microsoft.us")
    /// US Government L5 (DoD).
    public static let dod = GraphCloud(
        loginURL: "https://login.microsoftonline.us", graphURL: "https://dod-graph.microsoft.us")
    /// Microsoft Graph operated by 21Vianet (legacy v1 alerts are not available there).
    public static let china = GraphCloud(
        loginURL: "https://login.chinacloudapi.cn", graphURL: "https://microsoftgraph.chinacloudapi.cn")

    public static let names = ["global", "usgov", "dod", "china", "simulator"]

    public static func named(_ name: String) -> GraphCloud? {
        switch name {
        case "global": return .global
        case "usgov": return .usGov
        case "dod": return .dod
        case "china": return .china
        default: return nil
        }
    }

    /// The token endpoint for a tenant.
    public func tokenURL(tenant: String) -> String { "\(loginURL)/\(tenant)/oauth2/v2.0/token" }
    /// The scope that asks for the app's Graph application permissions in this cloud.
    public var scope: String { "\(graphURL)/.default" }
}
