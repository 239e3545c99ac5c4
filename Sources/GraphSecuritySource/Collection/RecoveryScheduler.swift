package import CollectorCore

/// Keeps the ledger of owed windows: what a collected window adds to it, and what becomes of an
/// owed window once it was collected again. Pure: the ``EndpointCollector`` does the I/O.
package struct RecoveryScheduler: Sendable {
    /// Legacy v1 alerts: federated, so a failure belongs to a provider; elsewhere a 206 (not
    /// expected there) makes the whole endpoint owe the window.
    package var federated: Bool
    /// A provider answering 401/403 for this long is given up on.
    package var giveUpAfter: Duration

    package init(federated: Bool, giveUpAfter: Duration) {
        self.federated = federated
        self.giveUpAfter = giveUpAfter
    }

    /// What became of an owed window collected again.
    package enum Decision: Sendable, Equatable {
        /// Accepted by the sinks: it is owed no more.
        case recovered
        /// Still failing: owed, with one more attempt.
        case stillOwed(OwedWindow)
        /// Failing with 401/403 past `giveUpAfter`: dropped, its provider given up on.
        case abandoned(OwedWindow)
    }

    /// Adds to `pending` what a window [from, to] owes after its collection (`now` is when the
    /// poll started). Returns the providers given up on that answered again (they are collected
    /// again from now on).
    package func owe(
        after result: WindowResult, from: Timestamp, to: Timestamp, now: Timestamp,
        checkpoint cp: inout EndpointCheckpoint
    ) -> [String] {
        for failure in result.failures {
            let scope: CollectionScope = federated ? .provider(failure.provider) : .wholeEndpoint
            if case .provider(let name) = scope, cp.abandoned[name] != nil { continue }
            var w = OwedWindow(
                scope: scope, from: from, to: to, firstFailure: now, lastStatus: failure.status, attempts: 1)
            w.persistentSince = ProviderDiagnosis.isPersistent(status: failure.status) ? now : nil
            add(w, to: &cp.pending)
        }
        if result.wholeWindowOwedBecause != nil {
            add(
                OwedWindow(scope: .wholeEndpoint, from: from, to: to, firstFailure: now, lastStatus: 206, attempts: 1),
                to: &cp.pending)
        }
        guard federated else { return [] }
        let failing = Set(result.failures.map(\.provider))
        let resumed = cp.abandoned.keys.filter { !failing.contains($0) }.sorted()
        for provider in resumed { cp.abandoned[provider] = nil }
        return resumed
    }

    /// Adds a window to the ledger: one already owed by the same scope that reaches it is
    /// extended instead (a provider failing poll after poll owes one growing window).
    package func add(_ window: OwedWindow, to pending: inout [OwedWindow]) {
        if let i = pending.firstIndex(where: {
            $0.scope == window.scope && $0.to >= window.from && $0.from <= window.to
        }) {
            pending[i].from = min(pending[i].from, window.from)
            pending[i].to = max(pending[i].to, window.to)
            pending[i].lastStatus = window.lastStatus
            // The 401/403 streak goes on only while every report is one.
            pending[i].persistentSince =
                window.persistentSince == nil ? nil : (pending[i].persistentSince ?? window.persistentSince)
        } else {
            pending.append(window)
        }
    }

    /// Decides about `window` after collecting it again; `also` receives what other providers,
    /// named on its pages, now owe for its range.
    package func decide(
        _ window: OwedWindow, after result: WindowResult, now: Timestamp,
        also: inout [OwedWindow]
    ) -> Decision {
        var stillFailing: Int?
        for failure in result.failures {
            let scope: CollectionScope = federated ? .provider(failure.provider) : .wholeEndpoint
            if scope == window.scope {
                stillFailing = failure.status
            } else {
                var other = OwedWindow(
                    scope: scope, from: window.from, to: window.to, firstFailure: now, lastStatus: failure.status,
                    attempts: 1)
                other.persistentSince = ProviderDiagnosis.isPersistent(status: failure.status) ? now : nil
                add(other, to: &also)
            }
        }
        if stillFailing == nil, result.wholeWindowOwedBecause != nil {
            // The answer proved less than the window: still owed by whoever owed it.
            stillFailing = 206
        }
        guard let status = stillFailing else { return .recovered }
        return failed(window, status: status, now: now, fromWarning: status != 206)
    }

    /// The owed windows inside [from, to] that an unfiltered collection of that range settles:
    /// the whole endpoint's when the answers proved the range, a provider's when no answer named it.
    package func settled(by result: WindowResult, from: Timestamp, to: Timestamp, among windows: [OwedWindow])
        -> [OwedWindow]
    {
        guard result.wholeWindowOwedBecause == nil else { return [] }
        let failing = Set(result.failures.map(\.provider))
        return windows.filter { w in
            guard w.from >= from, w.to <= to else { return false }
            switch w.scope {
            case .wholeEndpoint: return result.failures.isEmpty || federated
            case .provider(let name): return !failing.contains(name)
            }
        }
    }

    /// An owed window whose collection failed with `status`: a 206 item's for the provider
    /// (`fromWarning`), or the request's own HTTP error. Only a provider whose own Warning items
    /// said 401/403 without a break for `giveUpAfter` is given up on; the whole endpoint refusing
    /// access is the endpoint's problem, reported as such, and its windows stay owed.
    package func failed(_ window: OwedWindow, status: Int, now: Timestamp, fromWarning: Bool = false) -> Decision {
        var w = window
        w.attempts = window.attempts == .max ? .max : window.attempts + 1
        w.lastStatus = status
        if fromWarning {
            w.persistentSince = ProviderDiagnosis.isPersistent(status: status) ? (window.persistentSince ?? now) : nil
        }
        if case .provider = window.scope, fromWarning, let since = w.persistentSince,
            now.duration(since: since) >= giveUpAfter
        {
            return .abandoned(w)
        }
        return .stillOwed(w)
    }
}
