public import CollectorCore
public import EventFormats
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
        // The defaults, declared once: decoding and the `plugins` listing read them from here.
        public var directory: String
        /// `format:` (json by default) and its settings block.
        public var formats = EventFormatSettings(.json)
        public var path: PathTemplate = Self.defaultPath
        public var timeSource: TimeSource = .received
        public var maxFileSize: ByteSize? = .mebibytes(100)
        public var rotateInterval: ConfigDuration?
        public var maxRotatedFiles = 10
        public var fsync: FsyncPolicy = .batch
        public var fsyncInterval: ConfigDuration = .seconds(1)
        public var fileMode: UInt32 = 0o600
        public var directoryMode: UInt32 = 0o700
        public var maxOpenFiles = 64

        static let defaultPath = try! PathTemplate("events-%Y-%m-%d.ndjson")
        /// Every setting at its default (the directory has none).
        static let defaults = try! Configuration(directory: "")

        enum CodingKeys: String, CodingKey {
            case directory, path
            case timeSource = "time_source"
            case maxFileSize = "max_file_size"
            case rotateInterval = "rotate_interval"
            case maxRotatedFiles = "max_rotated_files"
            case fsync
            case fsyncInterval = "fsync_interval"
            case fileMode = "file_mode"
            case directoryMode = "directory_mode"
            case maxOpenFiles = "max_open_files"
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
            if let template = try c.decodeIfPresent(String.self, forKey: .path) {
                do {
                    path = try PathTemplate(template)
                } catch {
                    throw DecodingError.dataCorruptedError(forKey: .path, in: c, debugDescription: error.description)
                }
            }
            timeSource = try c.decodeIfPresent(TimeSource.self, forKey: .timeSource) ?? d.timeSource
            if try c.decodeNil(forKey: .maxFileSize) && c.contains(.maxFileSize) {
                maxFileSize = nil
            } else {
                maxFileSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxFileSize) ?? d.maxFileSize
            }
            if maxFileSize?.bytes == 0 { maxFileSize = nil }
            rotateInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .rotateInterval)
            maxRotatedFiles = try c.decodeIfPresent(Int.self, forKey: .maxRotatedFiles) ?? d.maxRotatedFiles
            fsync = try c.decodeIfPresent(FsyncPolicy.self, forKey: .fsync) ?? d.fsync
            fsyncInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .fsyncInterval) ?? d.fsyncInterval
            fileMode = try Self.mode(c, .fileMode, default: d.fileMode)
            directoryMode = try Self.mode(c, .directoryMode, default: d.directoryMode)
            maxOpenFiles = try c.decodeIfPresent(Int.self, forKey: .maxOpenFiles) ?? d.maxOpenFiles
            guard maxRotatedFiles >= 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .maxRotatedFiles, in: c, debugDescription: "must be 0 (keep all) or more")
            }
            guard maxOpenFiles >= 1 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .maxOpenFiles, in: c, debugDescription: "must be at least 1")
            }
        }

        static func mode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, default value: UInt32) throws -> UInt32
        {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return value }
            guard let mode = UInt32(text, radix: 8), mode <= 0o7777 else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c,
                    debugDescription: "'\(text)' is not an octal file mode; write it quoted, like \"0600\"")
            }
            return mode
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "json-file"
        public static let summary = "NDJSON files with path templates, size/time rotation, retention and fsync policy"
        public static var options: [PluginOption] {
            let d = Configuration.defaults
            return [
                EventFormatSettings.option(default: .json),
                PluginOption(
                    "directory", type: "path", default: nil,
                    "base directory; every file stays inside it (relative to the main config file)"),
                PluginOption("path", type: "template", default: "\(d.path)", PathTemplate.summary),
                PluginOption(
                    "time_source", type: "received | event", default: d.timeSource.rawValue,
                    "time used for %-fields: when written, or the event's own time"),
                PluginOption(
                    "max_file_size", type: "size", default: d.maxFileSize.map { "\($0)" } ?? "none",
                    "rotate a file before it grows past this; 0 or null: never"),
                PluginOption(
                    "rotate_interval", type: "duration", default: d.rotateInterval.map { "\($0)" } ?? "none",
                    "rotate a file this long after it was opened"),
                PluginOption(
                    "max_rotated_files", type: "integer", default: "\(d.maxRotatedFiles)",
                    "rotated files kept per file; older ones are deleted (0: keep all)"),
                PluginOption(
                    "fsync", type: "never | batch | interval", default: d.fsync.rawValue,
                    "when written lines are forced to disk before being acknowledged"),
                PluginOption(
                    "fsync_interval", type: "duration", default: "\(d.fsyncInterval)",
                    "with fsync: interval, the longest time between fsyncs"),
                PluginOption("file_mode", type: "octal string", default: octal(d.fileMode), "permissions of new files"),
                PluginOption(
                    "directory_mode", type: "octal string", default: octal(d.directoryMode),
                    "permissions of new directories"),
                PluginOption(
                    "max_open_files", type: "integer", default: "\(d.maxOpenFiles)",
                    "files kept open at once; the least recently written is closed first"),
            ]
        }

        /// `"0600"`, quoted as the configuration writes it.
        static func octal(_ mode: UInt32) -> String {
            let digits = String(mode, radix: 8)
            return "\"" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "\""
        }

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.directory = context.resolve(config.directory)
            return try await JSONFileSink.open(configuration: config, logger: context.logger, name: context.name)
        }
    }
}
