import CollectorCore

// Lookups that read the entities in place: `lazy.compactMap` and `first` would copy each one.
extension Evidence {
    /// The first address, of the alert's then of its hosts', that passes `test`.
    func firstIPAddress(where test: (String) -> Bool) -> String? {
        for address in ipAddresses where test(address) { return address }
        for i in hosts.indices {
            for address in hosts[i].ipAddresses where test(address) { return address }
        }
        return nil
    }
}

extension Evidence.Host {
    /// The name an event shows for a host: its FQDN, or else its name.
    var displayName: String? { fqdn ?? name }
}

extension Evidence.User {
    /// The name a list of users shows: the UPN, or else the account name.
    var listedName: String? { userPrincipalName ?? accountName }
}

extension Array {
    /// The first value `read` finds in the elements, read in place (`lazy.compactMap(read).first`
    /// copies each element it passes).
    func firstValue(_ read: (Element) -> String?) -> String? {
        for i in indices {
            if let value = read(self[i]) { return value }
        }
        return nil
    }
}
