public import CollectorCore
public import Logging
#if canImport(Glibc)
import Glibc
import CollectorSystem
#endif

extension JSONFileSink {
    public enum FsyncPolicy: String, Decodable, Sendable, CaseIterable {
        /// Leave flushing to the operating system: fastest; a power loss can lose recent lines.
        case never
        /// fsync every file a batch touched before accepting the batch: nothing accepted is lost.
        case batch
        /// fsync at most every `fsync_interval`, and on flush and close.
        case interval
    }

    public enum TimeSource: String, Decodable, Sendable, CaseIterable {
        /// The time the collector writes the event: files fill in order.
        case received
        /// The event's own time (an alert's last update): files group events by when they happened.
        case event
    }

    public struct Configuration: Decodable, Sendable {
        public var directory: String
        public var path: PathTemplate
        public var timeSource: TimeSource
        public var maxFileSize: ByteSize?
        public var rotateInterval: ConfigDuration?
        public var maxRotatedFiles: Int
        public var fsync: FsyncPolicy
        public var fsyncInterval: ConfigDuration
        public var fileMode: UInt32
        public var directoryMode: UInt32
        public var maxOpenFiles: Int

        enum CodingKeys: String, CodingKey {
            case directory, path, timeSource = "time_source", maxFileSize = "max_file_size"
            case rotateInterval = "rotate_interval", maxRotatedFiles = "max_rotated_files", fsync
            case fsyncInterval = "fsync_interval", fileMode = "file_mode", directoryMode = "directory_mode"
            case maxOpenFiles = "max_open_files"
        }

        public init(directory: String, path: String = "events-%Y-%m-%d.ndjson") throws {
            self.directory = directory
            self.path = try PathTemplate(path)
            timeSource = .received
            maxFileSize = .mebibytes(100)
            rotateInterval = nil
            maxRotatedFiles = 10
            fsync = .batch
            fsyncInterval = .seconds(1)
            fileMode = 0o600
            directoryMode = 0o700
            maxOpenFiles = 64
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            directory = try c.decode(String.self, forKey: .directory)
            let template = try c.decodeIfPresent(String.self, forKey: .path) ?? "events-%Y-%m-%d.ndjson"
            do {
                path = try PathTemplate(template)
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .path, in: c, debugDescription: error.description)
            }
            timeSource = try c.decodeIfPresent(TimeSource.self, forKey: .timeSource) ?? .received
            if try c.decodeNil(forKey: .maxFileSize) && c.contains(.maxFileSize) {
                maxFileSize = nil
            } else {
                maxFileSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxFileSize) ?? .mebibytes(100)
            }
            if maxFileSize?.bytes == 0 { maxFileSize = nil }
            rotateInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .rotateInterval)
            maxRotatedFiles = try c.decodeIfPresent(Int.self, forKey: .maxRotatedFiles) ?? 10
            fsync = try c.decodeIfPresent(FsyncPolicy.self, forKey: .fsync) ?? .batch
            fsyncInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .fsyncInterval) ?? .seconds(1)
            fileMode = try Self.mode(c, .fileMode, default: 0o600)
            directoryMode = try Self.mode(c, .directoryMode, default: 0o700)
            maxOpenFiles = try c.decodeIfPresent(Int.self, forKey: .maxOpenFiles) ?? 64
            guard maxRotatedFiles >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .maxRotatedFiles, in: c, debugDescription: "must be 0 (keep all) or more")
            }
            guard maxOpenFiles >= 1 else {
                throw DecodingError.dataCorruptedError(forKey: .maxOpenFiles, in: c, debugDescription: "must be at least 1")
            }
        }

        static func mode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, default value: UInt32) throws -> UInt32 {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return value }
            guard let mode = UInt32(text, radix: 8), mode <= 0o7777 else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: "'\(text)' is not an octal file mode; write it quoted, like \"0600\"")
            }
            return mode
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "json-file"
        public static let summary = "NDJSON files with path templates, size/time rotation, retention and fsync policy"
        public static let options: [PluginOption] = [
            PluginOption("directory", type: "path", default: nil, "base directory; every file stays inside it (relative to the main config file)"),
            PluginOption("path", type: "template", default: "events-%Y-%m-%d.ndjson", "file path under directory: strftime %Y %m %d %H %M %S %j and {event_type} {kind} {severity} {tenant_id} {vendor} {provider} {status} {category}"),
            PluginOption("time_source", type: "received | event", default: "received", "time used for %-fields: when written, or the event's own time"),
            PluginOption("max_file_size", type: "size", default: "100MiB", "rotate a file before it grows past this; 0 or null: never"),
            PluginOption("rotate_interval", type: "duration", default: "none", "rotate a file this long after it was opened"),
            PluginOption("max_rotated_files", type: "integer", default: "10", "rotated files kept per file; older ones are deleted (0: keep all)"),
            PluginOption("fsync", type: "never | batch | interval", default: "batch", "when written lines are forced to disk before being acknowledged"),
            PluginOption("fsync_interval", type: "duration", default: "1s", "with fsync: interval, the longest time between fsyncs"),
            PluginOption("file_mode", type: "octal string", default: "\"0600\"", "permissions of new files"),
            PluginOption("directory_mode", type: "octal string", default: "\"0700\"", "permissions of new directories"),
            PluginOption("max_open_files", type: "integer", default: "64", "files kept open at once; the least recently written is closed first"),
        ]

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.directory = context.resolve(config.directory)
            return try await JSONFileSink.open(configuration: config, logger: context.logger, name: context.name)
        }
    }
}
