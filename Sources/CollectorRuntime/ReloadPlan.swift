/// What a SIGHUP changes: the running configuration against the one just read, entry by entry
/// (by name, comparing each entry as written and its secret files), and the top-level settings
/// that only apply at the next start.
struct ReloadPlan: Equatable {
    struct Changes: Equatable {
        /// In the new configuration only: started.
        var added: [String] = []
        /// In both, written differently: drained or stopped, then started with the new entry.
        var changed: [String] = []
        /// In the running configuration only: drained or stopped after checkpointing.
        var removed: [String] = []
        /// The same in both: they keep running untouched.
        var unchanged: [String] = []

        var isEmpty: Bool { added.isEmpty && changed.isEmpty && removed.isEmpty }
        /// What stops (or drains) before anything new starts.
        var leaving: Set<String> { Set(changed + removed) }
        /// What starts, in the new configuration's order.
        var arriving: [String] { added + changed }

        init(running: [(name: String, fingerprint: String)], reloaded: [(name: String, fingerprint: String)]) {
            let before = Dictionary(running.map { ($0.name, $0.fingerprint) }, uniquingKeysWith: { a, _ in a })
            let after = Set(reloaded.map(\.name))
            for entry in reloaded {
                switch before[entry.name] {
                case nil: added.append(entry.name)
                case entry.fingerprint: unchanged.append(entry.name)
                default: changed.append(entry.name)
                }
            }
            removed = running.map(\.name).filter { !after.contains($0) }
        }

        init(added: [String] = [], changed: [String] = [], removed: [String] = [], unchanged: [String] = []) {
            self.added = added
            self.changed = changed
            self.removed = removed
            self.unchanged = unchanged
        }
    }

    var sinks: Changes
    var sources: Changes
    /// Top-level settings (`state_directory`, `logging`, `pipeline`, `metrics`, `simulator`, `coordination`)
    /// added, removed or changed: they apply at the next start.
    var restartSettings: [String]

    init(running: LoadedConfiguration, reloaded: LoadedConfiguration) {
        sinks = Changes(
            running: running.sinks.map { ($0.settings.name, $0.fingerprint) },
            reloaded: reloaded.sinks.map { ($0.settings.name, $0.fingerprint) })
        sources = Changes(
            running: running.sources.map { ($0.settings.name, $0.fingerprint) },
            reloaded: reloaded.sources.map { ($0.settings.name, $0.fingerprint) })
        let keys = Set(running.settingsFingerprint.keys).union(reloaded.settingsFingerprint.keys)
        restartSettings = keys.filter { running.settingsFingerprint[$0] != reloaded.settingsFingerprint[$0] }.sorted()
    }
}
