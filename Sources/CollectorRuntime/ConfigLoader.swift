public import CollectorConfig
public import CollectorCore
import Foundation
import Yams
#if canImport(Glibc)
import Glibc
import CollectorSystem
#endif

/// Reads a configuration file and its includes, decodes every entry with its plugin's
/// configuration type, and reports every problem at once, each with file, line and column.
public enum ConfigLoader {
    public static func load(
        file: String, registry: PluginRegistry, environment: [String: String]? = nil
    ) throws(ConfigErrors) -> LoadedConfiguration {
        try load(file: file, text: nil, directory: directoryOf(file), registry: registry, environment: environment)
    }

    /// Loads configuration text that is not in a file (the built-in quickstart); `name` is
    /// used in messages and relative paths resolve against `directory`.
    public static func load(
        text: String, name: String, directory: String, registry: PluginRegistry, environment: [String: String]? = nil
    ) throws(ConfigErrors) -> LoadedConfiguration {
        try load(file: name, text: text, directory: directory, registry: registry, environment: environment)
    }

    static func load(
        file: String, text: String?, directory: String, registry: PluginRegistry, environment: [String: String]?
    ) throws(ConfigErrors) -> LoadedConfiguration {
        let environment = environment ?? ProcessInfo.processInfo.environment
        var errors: [ConfigError] = []
        guard let root = parse(file, text: text, errors: &errors) else { throw ConfigErrors(errors) }

        let decoder = YAMLConfigDecoder(file: file, environment: environment, baseDirectory: directory)
        var settings = CollectorSettings()
        if isNullScalar(root) {
            // An empty file is an empty configuration.
        } else {
            do {
                settings = try decoder.decode(CollectorSettings.self, from: root, path: [])
                errors += decoder.unknownKeys(under: "", context: "")
            } catch {
                errors.append(decoder.locate(error, context: ""))
            }
        }

        var entries: [(file: String, node: Node, section: String, index: Int)] = []
        func collect(_ node: Node, file: String) {
            guard case .mapping(let mapping) = node else { return }
            for section in ["sources", "sinks"] {
                guard let list = mapping[section] else { continue }
                if isNullScalar(list) { continue }
                guard case .sequence(let seq) = list else {
                    errors.append(ConfigError(file: file, line: list.mark?.line, column: list.mark?.column,
                                              message: "'\(section)' must be a list of entries, each starting with '- type: …'"))
                    continue
                }
                for (i, entry) in seq.enumerated() { entries.append((file, entry, section, i)) }
            }
        }
        collect(root, file: file)

        var files = [file]
        var seen: Set<String> = [(file as NSString).standardizingPath]
        for pattern in settings.include {
            let matches = expand(pattern, relativeTo: directory)
            if matches.isEmpty {
                let mark = decoder.marks["include"]
                if !pattern.contains("*") && !pattern.contains("?") {
                    errors.append(ConfigError(file: file, line: mark?.line, column: mark?.column, context: "include",
                                              message: "included file '\(pattern)' does not exist"))
                }
                continue
            }
            for included in matches where !seen.contains((included as NSString).standardizingPath) {
                seen.insert((included as NSString).standardizingPath)
                files.append(included)
                var fileErrors: [ConfigError] = []
                guard let node = parse(included, errors: &fileErrors) else {
                    errors += fileErrors
                    continue
                }
                if isNullScalar(node) { continue }
                let fragmentDecoder = YAMLConfigDecoder(file: included, environment: environment, baseDirectory: directory)
                do {
                    _ = try fragmentDecoder.decode(Fragment.self, from: node, path: [])
                    errors += fragmentDecoder.unknownKeys(under: "", context: "included file")
                } catch {
                    errors.append(fragmentDecoder.locate(error, context: "included file"))
                }
                collect(node, file: included)
            }
        }

        var sources: [ConfiguredSource] = []
        var sinks: [ConfiguredSink] = []
        var warnings: [ConfigError] = []
        var names: [String: Set<String>] = ["sources": [], "sinks": []]
        for entry in entries {
            let path: [any CodingKey] = [NameKey(entry.section), IndexKey(entry.index)]
            let entryDecoder = YAMLConfigDecoder(file: entry.file, environment: environment, baseDirectory: directory)
            let typeText = entry.node.mapping?["type"]?.scalar?.string
            let label = "\(entry.section)[\(entry.index)]"
            let fallbackContext = typeText.map { "\(label) (\($0))" } ?? label
            let isSink = entry.section == "sinks"
            do {
                let type: String
                let name: String
                if isSink {
                    let common = try entryDecoder.decode(SinkCommonSettings.self, from: entry.node, path: path)
                    (type, name) = (common.type, common.name)
                    guard let plugin = registry.sink(type: type) else {
                        throw unknownType(type, known: registry.sinkTypes, kind: "sink", decoder: entryDecoder, path: path, label: label)
                    }
                    let context = "\(label) (\(type))"
                    do {
                        let make = try decodeSink(plugin, decoder: entryDecoder, node: entry.node, path: path)
                        errors += entryDecoder.unknownKeys(under: YAMLConfigDecoder.pathText(path), context: context)
                        sinks.append(ConfiguredSink(settings: common, file: entry.file, make: make))
                    } catch {
                        errors.append(entryDecoder.locate(error, context: context))
                        errors += unknownKeysAfterFailure(entryDecoder, path: path, context: context,
                                                          extra: SinkCommonSettings.keys + plugin.options.map(\.name))
                    }
                } else {
                    let common = try entryDecoder.decode(SourceCommonSettings.self, from: entry.node, path: path)
                    (type, name) = (common.type, common.name)
                    guard let plugin = registry.source(type: type) else {
                        throw unknownType(type, known: registry.sourceTypes, kind: "source", decoder: entryDecoder, path: path, label: label)
                    }
                    let context = "\(label) (\(type))"
                    do {
                        let make = try decodeSource(plugin, decoder: entryDecoder, node: entry.node, path: path)
                        warnings += entryDecoder.advice
                        errors += entryDecoder.unknownKeys(under: YAMLConfigDecoder.pathText(path), context: context)
                        sources.append(ConfiguredSource(settings: common, file: entry.file, make: make))
                    } catch {
                        errors.append(entryDecoder.locate(error, context: context))
                        errors += unknownKeysAfterFailure(entryDecoder, path: path, context: context,
                                                          extra: SourceCommonSettings.keys + plugin.options.map(\.name))
                    }
                }
                if names[entry.section]!.contains(name) {
                    let mark = entry.node.mark
                    errors.append(ConfigError(file: entry.file, line: mark?.line, column: mark?.column, context: "\(label) (\(type))",
                                              message: "another \(isSink ? "sink" : "source") is already named '\(name)'; give each a unique 'name'"))
                }
                names[entry.section]!.insert(name)
            } catch {
                let known = isSink ? registry.sink(type: typeText ?? "") != nil : registry.source(type: typeText ?? "") != nil
                errors.append(entryDecoder.locate(error, context: known ? fallbackContext : label))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return LoadedConfiguration(file: file, directory: directory, settings: settings, sources: sources, sinks: sinks, files: files,
                                   warnings: warnings)
    }

    struct Fragment: Decodable {
        enum CodingKeys: String, CodingKey { case sources, sinks }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            _ = c.contains(.sources)
            _ = c.contains(.sinks)
        }
    }

    static func unknownType(_ type: String, known: [String], kind: String, decoder: YAMLConfigDecoder, path: [any CodingKey], label: String) -> ConfigError {
        var message = "unknown \(kind) type '\(type)'"
        if let s = Suggestion.nearest(to: type, in: known) { message += "; did you mean '\(s)'?" }
        message += " (known: \(known.joined(separator: ", ")))"
        let mark = decoder.marks[YAMLConfigDecoder.pathText(path + [NameKey("type")])] ?? decoder.nearestMark(path)
        return ConfigError(file: decoder.file, line: mark?.line, column: mark?.column, context: label, message: message)
    }

    /// After a failed decode, keys after the failure were never asked for; count the plugin's
    /// documented options as known so only real typos are reported.
    static func unknownKeysAfterFailure(_ decoder: YAMLConfigDecoder, path: [any CodingKey], context: String, extra: [String]) -> [ConfigError] {
        let pathText = YAMLConfigDecoder.pathText(path)
        decoder.requestedKeys[pathText, default: []].formUnion(extra)
        decoder.requestedKeys[pathText, default: []].formUnion(extra.map { $0 + "_file" })
        return decoder.unknownKeys(under: pathText, context: context).filter { error in
            // Only the entry's own keys: nested mappings may not have been reached.
            !error.message.contains(" in \(pathText).")
        }
    }

    static func decodeSink<P: SinkPlugin>(_ plugin: P.Type, decoder: YAMLConfigDecoder, node: Node, path: [any CodingKey]) throws
        -> @Sendable (SinkContext) async throws -> any Sink
    {
        let configuration = try decoder.decode(P.Configuration.self, from: node, path: path)
        return { context in try await P.makeSink(configuration: configuration, context: context) }
    }

    static func decodeSource<P: SourcePlugin>(_ plugin: P.Type, decoder: YAMLConfigDecoder, node: Node, path: [any CodingKey]) throws
        -> @Sendable (SourceContext) async throws -> any Source
    {
        let configuration = try decoder.decode(P.Configuration.self, from: node, path: path)
        if let advised = configuration as? any ConfigurationAdvice {
            let mark = decoder.nearestMark(path)
            let label = "\(YAMLConfigDecoder.pathText(path)) (\(P.type))"
            decoder.advice += advised.advice.map {
                ConfigError(file: decoder.file, line: mark?.line, column: mark?.column, context: label, message: $0)
            }
        }
        return { context in try await P.makeSource(configuration: configuration, context: context) }
    }

    static func parse(_ file: String, text given: String? = nil, errors: inout [ConfigError]) -> Node? {
        if let given { return parseText(given, file: file, errors: &errors) }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readRegularFile(file, limit: FileSystem.configurationFileLimit)
        } catch {
            errors.append(ConfigError(file: file, message: readProblem(error)))
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            errors.append(ConfigError(file: file, message: "the file is not UTF-8 text (is it a configuration file?)"))
            return nil
        }
        return parseText(text, file: file, errors: &errors)
    }

    /// A read failure in words, without the path (the error's file already names it).
    static func readProblem(_ error: BoundedReadError) -> String {
        switch error.cause {
        case .notFound: return "no such file"
        case .notRegular(let what): return "cannot read it: it is \(what), not a regular file"
        case .tooLarge(let limit): return "the file is larger than \(ByteSize(bytes: Int64(limit))); is it a configuration file?"
        case .system(let reason): return "cannot read the file: \(reason)"
        }
    }

    static func parseText(_ text: String, file: String, errors: inout [ConfigError]) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else { return Node("", .implicit, .plain) }
            if case .mapping = node { return node }
            if isNullScalar(node) { return node }
            errors.append(ConfigError(file: file, line: node.mark?.line, column: node.mark?.column,
                                      message: "the top level must be a mapping (key: value lines), found \(describeTopLevel(node))"))
            return nil
        } catch {
            errors.append(ConfigError.yaml(error, file: file))
            return nil
        }
    }

    /// What a top level that is not a mapping is, without echoing it (it may be any file).
    static func describeTopLevel(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "a single value of \(s.string.count) characters"
        default: return describe(node)
        }
    }


    static func directoryOf(_ file: String) -> String {
        let dir = FileSystem.directoryName(of: file)
        return dir
    }

    static func expand(_ pattern: String, relativeTo directory: String) -> [String] {
        let full = pattern.hasPrefix("/") ? pattern : (directory == "." ? pattern : "\(directory)/\(pattern)")
        let normalized = (full as NSString).standardizingPath
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(normalized, 0, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        for i in 0..<Int(result.gl_pathc) {
            if let p = result.gl_pathv[i] { paths.append(String(cString: p)) }
        }
        return paths.sorted()
    }
}
