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
    var firstHostIPAddress: String? {
        for i in hosts.indices where !hosts[i].ipAddresses.isEmpty { return hosts[i].ipAddresses[0] }
        return nil
    }
    var firstFileSHA256: String? {
        for i in files.indices { if let hash = files[i].sha256 { return hash } }
        return nil
    }
    var firstProcessSHA256: String? {
        for i in processes.indices { if let hash = processes[i].sha256 { return hash } }
        return nil
    }
    var firstFileSHA1: String? {
        for i in files.indices { if let hash = files[i].sha1 { return hash } }
        return nil
    }
    var firstCommandLine: String? {
        for i in processes.indices { if let line = processes[i].commandLine { return line } }
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
