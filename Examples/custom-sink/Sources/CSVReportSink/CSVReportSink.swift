import CollectorCore
import Foundation

/// `type: csv-report`: a CSV file of the alerts worth a look (by default medium and high), plus
/// provider warnings and collector health, for a spreadsheet or a daily report. One row per
/// event, RFC 4180 quoting, a header row, written with `fsync` before a batch is accepted.
///
/// It shows the parts of a well-behaved sink: a `Configuration` decoded from YAML with clear
/// errors, a `Plugin` for the registry, blocking file I/O on a ``DedicatedThreadExecutor``, a
/// failed batch cut back so a retry never leaves half a batch, and `SinkError.retryable` for
/// failures that may pass.
public actor CSVReportSink: Sink {
    public static let allColumns = [
        "time", "event_type", "severity", "title", "id", "provider", "status", "category",
        "tenant_id", "host", "user", "ip", "url",
    ]

    public struct Configuration: Decodable, Sendable {
        /// The CSV file (relative paths: the main config file's directory).
        public var path: String
        public var columns: [String]
        /// Alerts below this Graph severity are left out (`informational` keeps all).
        public var minSeverity: Severity
        public var includeProviderWarnings: Bool
        public var includeHealth: Bool

        enum CodingKeys: String, CodingKey {
            case path, columns
            case minSeverity = "min_severity"
            case includeProviderWarnings = "include_provider_warnings"
            case includeHealth = "include_health"
        }

        public init(
            path: String, columns: [String] = CSVReportSink.allColumns, minSeverity: Severity = .medium,
            includeProviderWarnings: Bool = true, includeHealth: Bool = true
        ) {
            self.path = path
            self.columns = columns
            self.minSeverity = minSeverity
            self.includeProviderWarnings = includeProviderWarnings
            self.includeHealth = includeHealth
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            columns = try c.decodeIfPresent([String].self, forKey: .columns) ?? CSVReportSink.allColumns
            for column in columns where !CSVReportSink.allColumns.contains(column) {
                throw DecodingError.dataCorruptedError(
                    forKey: .columns, in: c,
                    debugDescription:
                        "unknown column '\(column)'; columns are \(CSVReportSink.allColumns.joined(separator: ", "))")
            }
            guard columns.contains("id") && columns.contains("event_type") else {
                throw DecodingError.dataCorruptedError(
                    forKey: .columns, in: c,
                    debugDescription:
                        "keep the 'event_type' and 'id' columns: a report without them cannot be traced back")
            }
            let severity = try c.decodeIfPresent(String.self, forKey: .minSeverity) ?? "medium"
            minSeverity = Severity(rawValue: severity)
            guard minSeverity.rank > 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .minSeverity, in: c,
                    debugDescription: "'\(severity)' is not informational, low, medium or high")
            }
            includeProviderWarnings = try c.decodeIfPresent(Bool.self, forKey: .includeProviderWarnings) ?? true
            includeHealth = try c.decodeIfPresent(Bool.self, forKey: .includeHealth) ?? true
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "csv-report"
        public static let summary = "A CSV report of medium and high alerts, provider warnings and collector health"
        public static let options: [PluginOption] = [
            PluginOption("path", type: "path", default: nil, "the CSV file"),
            PluginOption("columns", type: "list", default: "all", CSVReportSink.allColumns.joined(separator: " ")),
            PluginOption(
                "min_severity", type: "informational | low | medium | high", default: "medium",
                "alerts below this are left out"),
            PluginOption(
                "include_provider_warnings", type: "bool", default: "true", "rows for failing Graph providers"),
            PluginOption("include_health", type: "bool", default: "true", "rows for the collector's own health events"),
        ]

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            if !config.path.hasPrefix("/") { config.path = "\(context.configurationDirectory)/\(config.path)" }
            return CSVReportSink(configuration: config)
        }
    }

    private let executor = DedicatedThreadExecutor(name: "csv-report")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    public let configuration: Configuration
    private var handle: FileHandle?

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func write(_ batch: [Event]) async throws {
        let rows = batch.compactMap(row(for:))
        guard !rows.isEmpty else { return }
        let file = try open()
        let start = try file.seekToEnd()
        do {
            try file.write(contentsOf: Data(rows.joined().utf8))
            try file.synchronize()
        } catch {
            // Cut back to where this batch began, so the retry writes it once.
            try? file.truncate(atOffset: start)
            throw SinkError.retryable("cannot write \(configuration.path)", underlying: error)
        }
    }

    public func close() async throws {
        try handle?.close()
        handle = nil
        executor.shutdown()
    }

    private func open() throws -> FileHandle {
        if let handle { return handle }
        let fm = FileManager.default
        do {
            try fm.createDirectory(
                atPath: (configuration.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if !fm.fileExists(atPath: configuration.path) {
                guard
                    fm.createFile(
                        atPath: configuration.path, contents: Data(Self.line(configuration.columns).utf8),
                        attributes: [.posixPermissions: 0o600])
                else {
                    throw CocoaError(.fileWriteNoPermission)
                }
            }
            let opened = try FileHandle(forUpdating: URL(fileURLWithPath: configuration.path))
            handle = opened
            return opened
        } catch {
            throw SinkError.retryable("cannot open \(configuration.path): \(error)")
        }
    }

    /// The CSV line for an event, or nil when the configuration leaves it out.
    nonisolated func row(for event: Event) -> String? {
        switch event {
        case .alert(let a) where a.severity.rank >= configuration.minSeverity.rank || a.severity.rank == 0: break
        case .providerWarning where configuration.includeProviderWarnings: break
        case .health where configuration.includeHealth: break
        default: return nil
        }
        return Self.line(configuration.columns.map { Self.value($0, of: event) })
    }

    /// The value of one column for an event.
    public static func value(_ column: String, of event: Event) -> String {
        switch (column, event) {
        case ("time", _): return event.time?.iso8601(fractionDigits: 3) ?? ""
        case ("event_type", _): return event.eventType
        case ("severity", .alert(let a)): return a.severity.rawValue
        case ("severity", .providerWarning(let w)): return w.isPersistent ? "persistent" : "transient"
        case ("severity", .health(let h)): return h.level.rawValue
        case ("title", .alert(let a)): return a.title
        case ("title", .providerWarning(let w)): return w.diagnosis
        case ("title", .health(let h)): return h.message
        case ("id", _): return id(of: event)
        case ("provider", .alert(let a)): return a.provider ?? ""
        case ("provider", .providerWarning(let w)): return w.provider
        case ("status", .alert(let a)): return a.status
        case ("status", .providerWarning(let w)): return String(w.httpStatus)
        case ("category", .alert(let a)): return a.category ?? ""
        case ("tenant_id", .alert(let a)): return a.tenantId ?? ""
        case ("tenant_id", .providerWarning(let w)): return w.tenantId ?? ""
        case ("host", .alert(let a)): return a.evidence.hosts.first.flatMap { $0.fqdn ?? $0.name } ?? ""
        case ("user", .alert(let a)):
            return a.evidence.users.first.flatMap { $0.userPrincipalName ?? $0.accountName } ?? ""
        case ("ip", .alert(let a)):
            return a.evidence.ipAddresses.first ?? a.evidence.hosts.first?.ipAddresses.first ?? ""
        case ("url", .alert(let a)): return a.webURL ?? ""
        default: return ""
        }
    }

    /// What identifies an event in the report: an alert's id, `Vendor/Provider/Status` for a
    /// provider warning, `component/code` for a health event.
    public static func id(of event: Event) -> String {
        switch event {
        case .alert(let a): return a.id
        case .providerWarning(let w): return "\(w.vendor)/\(w.provider)/\(w.httpStatus)"
        case .health(let h): return "\(h.component)/\(h.code)"
        }
    }

    /// One CSV line (RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled).
    static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",") + "\r\n"
    }

    /// Reads a report back: the header and the rows, as column → value.
    public static func read(_ path: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var rows: [[String]] = [[]]
        var field = ""
        var quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        field.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                rows[rows.count - 1].append(field)
                field = ""
            } else if c == "\r\n" || c == "\n" {
                rows[rows.count - 1].append(field)
                field = ""
                rows.append([])
            } else {
                field.append(c)
            }
        }
        rows = rows.filter { !$0.isEmpty }
        guard let header = rows.first else { return [] }
        return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }
}
