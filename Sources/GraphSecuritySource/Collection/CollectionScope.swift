/// What a re-collection asks Graph for: the whole endpoint, or one provider of the federated
/// legacy endpoint (`vendorInformation/provider eq '…'`).
package enum CollectionScope: Sendable, Hashable, CustomStringConvertible {
    case wholeEndpoint
    case provider(String)

    /// The provider's name, for a provider scope.
    package var providerName: String? {
        if case .provider(let name) = self { return name }
        return nil
    }

    package var description: String {
        switch self {
        case .wholeEndpoint: return "the whole endpoint"
        case .provider(let name): return "provider '\(name)'"
        }
    }

    /// As checkpoints store it: null for the whole endpoint (older checkpoints wrote `"*"`).
    init(stored name: String?) {
        if let name, name != "*" { self = .provider(name) } else { self = .wholeEndpoint }
    }
}
