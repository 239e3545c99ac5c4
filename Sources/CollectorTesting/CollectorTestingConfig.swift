import CollectorConfig

/// Decodes a plugin's configuration from YAML the way the collector does (unknown keys,
/// `${ENV}`, `*_file`), for tests of your plugin's configuration.
public enum CollectorTestingConfig {
    public static func decode<C: Decodable>(_ type: C.Type, yaml: String, environment: [String: String] = [:]) throws
        -> C
    {
        try PluginConfigurationDecoder.decode(type, yaml: yaml, environment: environment)
    }
}
