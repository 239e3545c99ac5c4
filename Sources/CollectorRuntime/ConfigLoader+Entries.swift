import CollectorConfig
import CollectorCore
import Foundation
import Yams

extension ConfigLoader {
    /// One load in progress: the entries found in the main file and its includes, and every
    /// problem so far (all are reported at once).
    struct Loading {
        let file: String
        let directory: String
        let registry: PluginRegistry
        let environment: [String: String]
        var errors: [ConfigError] = []
        var warnings: [ConfigError] = []
        var files: [String]
        var entries: [Entry] = []
        private var settingsMarks: [String: Mark] = [:]

        struct Entry {
            var file: String
            var node: Node
            var section: String
            var index: Int
        }

        init(file: String, directory: String, registry: PluginRegistry, environment: [String: String]) {
            self.file = file
            self.directory = directory
            self.registry = registry
            self.environment = environment
            files = [file]
        }

        func decoder(for file: String) -> YAMLConfigDecoder {
            YAMLConfigDecoder(file: file, environment: environment, baseDirectory: directory)
        }

        /// The top-level settings; an empty file is an empty configuration.
        mutating func decodeSettings(_ root: Node) -> CollectorSettings {
            guard !isNullScalar(root) else { return CollectorSettings() }
            let decoder = decoder(for: file)
            defer { settingsMarks = decoder.marks }
            do {
                let settings = try decoder.decode(CollectorSettings.self, from: root, path: [])
                errors += decoder.unknownKeys(under: "", context: "")
                return settings
            } catch {
                errors.append(decoder.locate(error, context: ""))
                return CollectorSettings()
            }
        }

        /// The `sources:` and `sinks:` entries of one file.
        mutating func collectEntries(of node: Node, file: String) {
            guard case .mapping(let mapping) = node else { return }
            for section in ["sources", "sinks"] {
                guard let list = mapping[section], !isNullScalar(list) else { continue }
                guard case .sequence(let sequence) = list else {
                    errors.append(
                        ConfigError(
                            file: file, line: list.mark?.line, column: list.mark?.column,
                            message: "'\(section)' must be a list of entries, each starting with '- type: …'"))
                    continue
                }
                for (i, entry) in sequence.enumerated() {
                    entries.append(Entry(file: file, node: entry, section: section, index: i))
                }
            }
        }

        /// Reads every included file once (globs expanded, sorted), each holding only entries.
        mutating func readIncludes(_ patterns: [String]) {
            var seen: Set<String> = [(file as NSString).standardizingPath]
            for pattern in patterns {
                let matches = expand(pattern, relativeTo: directory)
                if matches.isEmpty {
                    let mark = settingsMarks["include"]
                    if !pattern.contains("*") && !pattern.contains("?") {
                        errors.append(
                            ConfigError(
                                file: file, line: mark?.line, column: mark?.column, context: "include",
                                message: "included file '\(pattern)' does not exist"))
                    }
                    continue
                }
                for included in matches where seen.insert((included as NSString).standardizingPath).inserted {
                    files.append(included)
                    readInclude(included)
                }
            }
        }

        private mutating func readInclude(_ included: String) {
            guard let node = parse(included, errors: &errors), !isNullScalar(node) else { return }
            let fragmentDecoder = decoder(for: included)
            do {
                _ = try fragmentDecoder.decode(Fragment.self, from: node, path: [])
                errors += fragmentDecoder.unknownKeys(under: "", context: "included file")
            } catch {
                errors.append(fragmentDecoder.locate(error, context: "included file"))
            }
            collectEntries(of: node, file: included)
        }

        /// Decodes every entry through its plugin, in the order they appear; names must be unique
        /// within a section.
        mutating func decodeEntries() -> (sinks: [ConfiguredSink], sources: [ConfiguredSource]) {
            var sinks: [ConfiguredSink] = []
            var sources: [ConfiguredSource] = []
            var names: [String: Set<String>] = [:]
            for entry in entries {
                let common: any CommonEntrySettings
                if entry.section == SinkEntry.section {
                    guard let (configured, c) = decode(entry, as: SinkEntry.self) else { continue }
                    if let configured { sinks.append(configured) }
                    common = c
                } else {
                    guard let (configured, c) = decode(entry, as: SourceEntry.self) else { continue }
                    if let configured { sources.append(configured) }
                    common = c
                }
                let name = common.name
                if !names[entry.section, default: []].insert(name).inserted {
                    let mark = entry.node.mark
                    let type = common.type
                    let noun = entry.section == SinkEntry.section ? SinkEntry.noun : SourceEntry.noun
                    errors.append(
                        ConfigError(
                            file: entry.file, line: mark?.line, column: mark?.column,
                            context: "\(entry.section)[\(entry.index)] (\(type))",
                            message: "another \(noun) is already named '\(name)'; give each a unique 'name'"))
                }
            }
            return (sinks, sources)
        }

        /// One entry: its common keys, its plugin, the plugin's configuration. Nil
        /// when the common keys or the type are wrong; an entry whose plugin configuration failed
        /// (the errors are recorded) still has its common keys, so duplicate names are reported too.
        private mutating func decode<Kind: EntryKind>(
            _ entry: Entry, as kind: Kind.Type
        ) -> (Kind.Configured?, Kind.Common)? {
            let path: [any CodingKey] = [NameKey(entry.section), IndexKey(entry.index)]
            let entryDecoder = decoder(for: entry.file)
            let label = "\(entry.section)[\(entry.index)]"
            let common: Kind.Common
            do {
                common = try entryDecoder.decode(Kind.Common.self, from: entry.node, path: path)
            } catch {
                let typeText = entry.node.mapping?["type"]?.scalar?.string
                let known = typeText.map { Kind.options(of: $0, in: registry) != nil } ?? false
                errors.append(entryDecoder.locate(error, context: known ? "\(label) (\(typeText!))" : label))
                return nil
            }
            guard let options = Kind.options(of: common.type, in: registry) else {
                errors.append(
                    unknownType(
                        common.type, known: Kind.types(in: registry), kind: Kind.noun, decoder: entryDecoder,
                        path: path,
                        label: label))
                return nil
            }
            let context = "\(label) (\(common.type))"
            do {
                let configured = try Kind.configure(
                    common, registry: registry, decoder: entryDecoder, node: entry.node, path: path, file: entry.file)
                warnings += entryDecoder.advice
                errors += entryDecoder.unknownKeys(under: YAMLConfigDecoder.pathText(path), context: context)
                return (configured, common)
            } catch {
                errors.append(entryDecoder.locate(error, context: context))
                errors += unknownKeysAfterFailure(
                    entryDecoder, path: path, context: context, extra: Kind.commonKeys + options.map(\.name))
                return (nil, common)
            }
        }
    }
}
