import CollectorCore
import Yams

extension ConfigError {
    /// A YAML syntax error, with its place; never the file's text (a file that is not YAML
    /// may hold anything, secrets included).
    package static func yaml(_ error: any Error, file: String) -> ConfigError {
        guard let y = error as? YamlError else { return ConfigError(file: file, message: "invalid YAML: \(error)") }
        switch y {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let what = context.map { "\(problem) (\($0.text) at line \($0.mark.line))" } ?? problem
            return ConfigError(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(what)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(
                file: file, line: context.mark.line, column: context.mark.column,
                message: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping")
        case .reader(let problem, let offset, _, _):
            // Not the text: a file that is not YAML at all may hold anything, secrets included.
            return ConfigError(
                file: file, message: "invalid YAML: \(problem)" + (offset.map { " at byte \($0)" } ?? ""))
        default:
            return ConfigError(file: file, message: "invalid YAML")
        }
    }
}

/// Decodes one plugin's configuration from YAML text the way the collector decodes an entry:
/// `${ENV}` substitution, `*_file` secrets, unknown keys reported with their line.
public enum PluginConfigurationDecoder {
    /// Decodes a plugin configuration from YAML text: for tests and tools.
    public static func decode<C: Decodable>(
        _ type: C.Type, yaml: String, file: String = "<test>", environment: [String: String] = [:]
    ) throws(ConfigErrors) -> C {
        var errors: [ConfigError] = []
        let node: Node
        do {
            node = try Yams.compose(yaml: yaml) ?? Node("", .implicit, .plain)
        } catch {
            throw ConfigErrors([ConfigError.yaml(error, file: file)])
        }
        let decoder = YAMLConfigDecoder(file: file, environment: environment, baseDirectory: ".")
        do {
            let value = try decoder.decode(C.self, from: node, path: [])
            errors += decoder.unknownKeys(under: "", context: "")
            if errors.isEmpty { return value }
        } catch {
            errors.append(decoder.locate(error, context: ""))
        }
        throw ConfigErrors(errors)
    }

}
