public import CollectorCore
public import Logging
import GzipStream
#if canImport(Glibc)
import Glibc
import CollectorSystem
#endif

extension GzipArchiveSink {
    public enum SizeMeasure: String, Decodable, Sendable, CaseIterable {
        case compressed, uncompressed
    }

    public struct Configuration: Decodable, Sendable {
        public var directory: String
        public var path: PathTemplate
        public var timeSource: JSONFileSink.TimeSource
        public var level: Int
        public var maxFileSize: ByteSize?
        public var sizeMeasure: SizeMeasure
        public var rotateInterval: ConfigDuration?
        public var maxFiles: Int
        public var maxAge: ConfigDuration?
        public var fsync: Bool
        public var fileMode: UInt32
        public var directoryMode: UInt32

        enum CodingKeys: String, CodingKey {
            case directory, path, timeSource = "time_source", level, maxFileSize = "max_file_size", sizeMeasure = "size_measure"
            case rotateInterval = "rotate_interval", maxFiles = "max_files", maxAge = "max_age", fsync
            case fileMode = "file_mode", directoryMode = "directory_mode"
        }

        public init(directory: String, path: String = "events-%Y-%m-%d.ndjson.gz") throws {
            self.directory = directory
            self.path = try PathTemplate(path)
            timeSource = .received
            level = 6
            maxFileSize = .mebibytes(100)
            sizeMeasure = .compressed
            rotateInterval = .seconds(3600)
            maxFiles = 0
            maxAge = nil
            fsync = true
            fileMode = 0o600
            directoryMode = 0o700
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            directory = try c.decode(String.self, forKey: .directory)
            let template = try c.decodeIfPresent(String.self, forKey: .path) ?? "events-%Y-%m-%d.ndjson.gz"
            do { path = try PathTemplate(template) } catch {
                throw DecodingError.dataCorruptedError(forKey: .path, in: c, debugDescription: error.description)
            }
            guard template.hasSuffix(".gz") else {
                throw DecodingError.dataCorruptedError(forKey: .path, in: c, debugDescription: "'\(template)' must end in .gz (the files are gzip)")
            }
            timeSource = try c.decodeIfPresent(JSONFileSink.TimeSource.self, forKey: .timeSource) ?? .received
            level = try c.decodeIfPresent(Int.self, forKey: .level) ?? 6
            guard (1...9).contains(level) else {
                throw DecodingError.dataCorruptedError(forKey: .level, in: c, debugDescription: "gzip level is 1 (fastest) to 9 (smallest); 6 is gzip's default")
            }
            if c.contains(.maxFileSize), try c.decodeNil(forKey: .maxFileSize) {
                maxFileSize = nil
            } else {
                maxFileSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxFileSize) ?? .mebibytes(100)
                if maxFileSize?.bytes == 0 { maxFileSize = nil }
            }
            sizeMeasure = try c.decodeIfPresent(SizeMeasure.self, forKey: .sizeMeasure) ?? .compressed
            if c.contains(.rotateInterval), try c.decodeNil(forKey: .rotateInterval) {
                rotateInterval = nil
            } else {
                rotateInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .rotateInterval) ?? .seconds(3600)
            }
            maxFiles = try c.decodeIfPresent(Int.self, forKey: .maxFiles) ?? 0
            guard maxFiles >= 0 else { throw DecodingError.dataCorruptedError(forKey: .maxFiles, in: c, debugDescription: "must be 0 (keep all) or more") }
            maxAge = try c.decodeIfPresent(ConfigDuration.self, forKey: .maxAge)
            fsync = try c.decodeIfPresent(Bool.self, forKey: .fsync) ?? true
            fileMode = try JSONFileSink.Configuration.mode(c, .fileMode, default: 0o600)
            directoryMode = try JSONFileSink.Configuration.mode(c, .directoryMode, default: 0o700)
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "gzip-archive"
        public static let summary = "gzip-compressed NDJSON archive: crash-safe members, rotation, retention, manifests with SHA-256"
        public static let options: [PluginOption] = [
            PluginOption("directory", type: "path", default: nil, "base directory; every file stays inside it"),
            PluginOption("path", type: "template ending in .gz", default: "events-%Y-%m-%d.ndjson.gz", "file path under directory, as in json-file"),
            PluginOption("time_source", type: "received | event", default: "received", "time used for %-fields"),
            PluginOption("level", type: "1–9", default: "6", "gzip compression level"),
            PluginOption("max_file_size", type: "size", default: "100MiB", "finish a file once it reaches this size; 0 or null: never"),
            PluginOption("size_measure", type: "compressed | uncompressed", default: "compressed", "which size max_file_size counts"),
            PluginOption("rotate_interval", type: "duration or null", default: "1h", "finish a file this long after it was started"),
            PluginOption("max_files", type: "integer", default: "0 (keep all)", "finished files kept per path; older ones are deleted"),
            PluginOption("max_age", type: "duration", default: "none", "delete finished files older than this"),
            PluginOption("fsync", type: "bool", default: "true", "force each batch to disk before accepting it"),
            PluginOption("file_mode", type: "octal string", default: "\"0600\"", "permissions of new files"),
            PluginOption("directory_mode", type: "octal string", default: "\"0700\"", "permissions of new directories"),
        ]

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.directory = context.resolve(config.directory)
            return try await GzipArchiveSink.open(configuration: config, logger: context.logger, name: context.name)
        }
    }
}
