/// Publications share the pipeline; a reconfiguration (SIGHUP) has it alone. A reconfiguration
/// waits until the publications in progress have queued their events, and publications that
/// arrive meanwhile wait until it is done, so no event is ever queued for a sink that is being
/// removed or replaced. A waiting reconfiguration goes before new publications.
actor PublishGate {
    private var publishing = 0
    private var reconfiguring = false
    private var publishers: [CheckedContinuation<Void, Never>] = []
    private var reconfigurations: [CheckedContinuation<Void, Never>] = []

    /// Enters as one of many publications.
    func enterShared() async {
        if !reconfiguring && reconfigurations.isEmpty {
            publishing += 1
            return
        }
        await withCheckedContinuation { publishers.append($0) }
    }

    func leaveShared() {
        publishing -= 1
        if publishing == 0 { handOver() }
    }

    /// Enters alone, once every publication in progress has left.
    func enterExclusive() async {
        if !reconfiguring && publishing == 0 {
            reconfiguring = true
            return
        }
        await withCheckedContinuation { reconfigurations.append($0) }
    }

    func leaveExclusive() {
        reconfiguring = false
        handOver()
    }

    /// Lets the next reconfiguration in, or else every waiting publication.
    private func handOver() {
        guard !reconfiguring, publishing == 0 || reconfigurations.isEmpty else { return }
        if publishing == 0, !reconfigurations.isEmpty {
            reconfiguring = true
            reconfigurations.removeFirst().resume()
            return
        }
        let waiting = publishers
        publishers = []
        publishing += waiting.count
        for p in waiting { p.resume() }
    }
}
