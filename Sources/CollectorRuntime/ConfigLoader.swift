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
        var loading = Loading(
            file: file, directory: directory, registry: registry,
            environment: environment ?? ProcessInfo.processInfo.environment)
        guard let root = parse(file, text: text, errors: &loading.errors) else { throw ConfigErrors(loading.errors) }
        let settings = loading.decodeSettings(root)
        loading.collectEntries(of: root, file: file)
        loading.readIncludes(settings.include)
        let (sinks, sources) = loading.decodeEntries()
        if !loading.errors.isEmpty { throw ConfigErrors(loading.errors) }
        var loaded = LoadedConfiguration(
            file: file, directory: directory, settings: settings, sources: sources, sinks: sinks, files: loading.files,
            warnings: loading.warnings)
        loaded.settingsFingerprint = settingsFingerprint(root)
        return loaded
    }

    /// A node as canonical YAML text, followed by the checksums of the secret files it named.
    static func fingerprint(_ node: Node, secrets: [String]) -> String {
        let text = (try? Yams.serialize(node: node)) ?? "\(node)"
        return ([text] + secrets).joined(separator: "\n")
    }

    /// Each top-level setting but the entries and includes, as canonical YAML text.
    static func settingsFingerprint(_ root: Node) -> [String: String] {
        guard case .mapping(let mapping) = root else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string, !["sources", "sinks", "include"].contains(name) else { continue }
            result[name] = fingerprint(value, secrets: [])
        }
        return result
    }

    struct Fragment: Decodable {
        enum CodingKeys: String, CodingKey { case sources, sinks }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            _ = c.contains(.sources)
            _ = c.contains(.sinks)
        }
    }

    static func unknownType(
        _ type: String, known: [String], kind: String, decoder: YAMLConfigDecoder, path: [any CodingKey], label: String
    ) -> ConfigError {
        var message = "unknown \(kind) type '\(type)'"
        if let s = Suggestion.nearest(to: type, in: known) { message += "; did you mean '\(s)'?" }
        message += " (known: \(known.joined(separator: ", ")))"
        let mark = decoder.marks[YAMLConfigDecoder.pathText(path + [NameKey("type")])] ?? decoder.nearestMark(path)
        return ConfigError(file: decoder.file, line: mark?.line, column: mark?.column, context: label, message: message)
    }

    /// After a failed decode, keys after the failure were never asked for; count the plugin's
    /// documented options as known so only real typos are reported.
    static func unknownKeysAfterFailure(
        _ decoder: YAMLConfigDecoder, path: [any CodingKey], context: String, extra: [String]
    ) -> [ConfigError] {
        let pathText = YAMLConfigDecoder.pathText(path)
        decoder.requestedKeys[pathText, default: []].formUnion(extra)
        decoder.requestedKeys[pathText, default: []].formUnion(extra.map { $0 + "_file" })
        return decoder.unknownKeys(under: pathText, context: context).filter { error in
            // Only the entry's own keys: nested mappings may not have been reached.
            !error.message.contains(" in \(pathText).")
        }
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
        case .tooLarge(let limit):
            return "the file is larger than \(ByteSize(bytes: Int64(limit))); is it a configuration file?"
        case .system(let reason): return "cannot read the file: \(reason)"
        }
    }

    static func parseText(_ text: String, file: String, errors: inout [ConfigError]) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else { return Node("", .implicit, .plain) }
            if case .mapping = node { return node }
            if isNullScalar(node) { return node }
            errors.append(
                ConfigError(
                    file: file, line: node.mark?.line, column: node.mark?.column,
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
