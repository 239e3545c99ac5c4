public import CollectorCore
public import EventFormats
import GzipStream
public import Logging

#if canImport(Glibc)
    import Glibc
    import CollectorSystem
#endif

extension GzipArchiveSink {
    public enum SizeMeasure: String, Decodable, Sendable, CaseIterable {
        case compressed, uncompressed
    }

    public struct Configuration: Decodable, Sendable {
        // The defaults, declared once: decoding and the `plugins` listing read them from here.
        public var directory: String
        /// `format:` (json by default) and its settings block.
        public var formats = EventFormatSettings(.json)
        public var path: PathTemplate = Self.defaultPath
        public var timeSource: JSONFileSink.TimeSource = .received
        public var level = 6
        public var maxFileSize: ByteSize? = .mebibytes(100)
        public var sizeMeasure: SizeMeasure = .compressed
        public var rotateInterval: ConfigDuration? = .seconds(3600)
        /// 0: keep all.
        public var maxFiles = 0
        public var maxAge: ConfigDuration?
        public var fsync = true
        public var fileMode: UInt32 = 0o600
        public var directoryMode: UInt32 = 0o700

        static let defaultPath = try! PathTemplate("events-%Y-%m-%d.ndjson.gz")
        /// Every setting at its default (the directory has none).
        static let defaults = try! Configuration(directory: "")

        enum CodingKeys: String, CodingKey {
            case directory, path
            case timeSource = "time_source"
            case level
            case maxFileSize = "max_file_size"
            case sizeMeasure = "size_measure"
            case rotateInterval = "rotate_interval"
            case maxFiles = "max_files"
            case maxAge = "max_age"
            case fsync
            case fileMode = "file_mode"
            case directoryMode = "directory_mode"
        }

        public init(directory: String, path: String? = nil) throws {
            self.directory = directory
            if let path { self.path = try PathTemplate(path) }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            formats = try EventFormatSettings(from: decoder, default: .json)
            let d = Self.defaults
            directory = try c.decode(String.self, forKey: .directory)
            let template = try c.decodeIfPresent(String.self, forKey: .path) ?? d.path.description
            do { path = try PathTemplate(template) } catch {
                throw DecodingError.dataCorruptedError(forKey: .path, in: c, debugDescription: error.description)
            }
            guard template.hasSuffix(".gz") else {
                throw DecodingError.dataCorruptedError(
                    forKey: .path, in: c, debugDescription: "'\(template)' must end in .gz (the files are gzip)")
            }
            timeSource = try c.decodeIfPresent(JSONFileSink.TimeSource.self, forKey: .timeSource) ?? d.timeSource
            level = try c.decodeIfPresent(Int.self, forKey: .level) ?? d.level
            guard (1...9).contains(level) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .level, in: c,
                    debugDescription: "gzip level is 1 (fastest) to 9 (smallest); 6 is gzip's default")
            }
            if c.contains(.maxFileSize), try c.decodeNil(forKey: .maxFileSize) {
                maxFileSize = nil
            } else {
                maxFileSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxFileSize) ?? d.maxFileSize
                if maxFileSize?.bytes == 0 { maxFileSize = nil }
            }
            sizeMeasure = try c.decodeIfPresent(SizeMeasure.self, forKey: .sizeMeasure) ?? d.sizeMeasure
            if c.contains(.rotateInterval), try c.decodeNil(forKey: .rotateInterval) {
                rotateInterval = nil
            } else {
                rotateInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .rotateInterval) ?? d.rotateInterval
            }
            maxFiles = try c.decodeIfPresent(Int.self, forKey: .maxFiles) ?? d.maxFiles
            guard maxFiles >= 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .maxFiles, in: c, debugDescription: "must be 0 (keep all) or more")
            }
            maxAge = try c.decodeIfPresent(ConfigDuration.self, forKey: .maxAge)
            fsync = try c.decodeIfPresent(Bool.self, forKey: .fsync) ?? d.fsync
            fileMode = try JSONFileSink.Configuration.mode(c, .fileMode, default: d.fileMode)
            directoryMode = try JSONFileSink.Configuration.mode(c, .directoryMode, default: d.directoryMode)
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "gzip-archive"
        public static let summary =
            "gzip-compressed NDJSON archive: crash-safe members, rotation, retention, manifests with SHA-256"
        public static var options: [PluginOption] {
            let d = Configuration.defaults
            let none = "none"
            return [
                EventFormatSettings.option(default: .json),
                PluginOption("directory", type: "path", default: nil, "base directory; every file stays inside it"),
                PluginOption(
                    "path", type: "template ending in .gz", default: "\(d.path)",
                    "file path under directory, as in json-file"),
                PluginOption(
                    "time_source", type: "received | event", default: d.timeSource.rawValue, "time used for %-fields"),
                PluginOption("level", type: "1–9", default: "\(d.level)", "gzip compression level"),
                PluginOption(
                    "max_file_size", type: "size", default: d.maxFileSize.map { "\($0)" } ?? none,
                    "finish a file once it reaches this size; 0 or null: never"),
                PluginOption(
                    "size_measure", type: "compressed | uncompressed", default: d.sizeMeasure.rawValue,
                    "which size max_file_size counts"),
                PluginOption(
                    "rotate_interval", type: "duration or null", default: d.rotateInterval.map { "\($0)" } ?? none,
                    "finish a file this long after it was started"),
                PluginOption(
                    "max_files", type: "integer", default: d.maxFiles == 0 ? "0 (keep all)" : "\(d.maxFiles)",
                    "finished files kept per path; older ones are deleted"),
                PluginOption(
                    "max_age", type: "duration", default: d.maxAge.map { "\($0)" } ?? none,
                    "delete finished files older than this"),
                PluginOption(
                    "fsync", type: "bool", default: "\(d.fsync)", "force each batch to disk before accepting it"),
                PluginOption(
                    "file_mode", type: "octal string", default: JSONFileSink.Plugin.octal(d.fileMode),
                    "permissions of new files"),
                PluginOption(
                    "directory_mode", type: "octal string", default: JSONFileSink.Plugin.octal(d.directoryMode),
                    "permissions of new directories"),
            ]
        }

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.directory = context.resolve(config.directory)
            return try await GzipArchiveSink.open(configuration: config, logger: context.logger, name: context.name)
        }
    }
}
