public import CollectorCore
import CollectorSystem
import Foundation
import Logging

/// `type: graph-recorded`: replays Graph Security API answers recorded to files, through the
/// same page parsing, `Warning` handling and normalization as live collection.
///
/// Each file in `directory` (taken in name order, `*.json`) is one answer:
/// ```json
/// {"endpoint": "alerts", "request": "/v1.0/security/alerts?$top=100",
///  "status": 206, "headers": {"Warning": ["199 - \"Microsoft/Microsoft Defender ATP/403/10\""]},
///  "body": {"value": [ ... ], "@odata.nextLink": null}}
/// ```
/// A 206 answer publishes its items and one `provider_warning` event per warning item. A file
/// that cannot be read publishes a `collector_health` error and the replay goes on.
public struct RecordedSource: Source {
    public struct Configuration: Decodable, Sendable {
        public var directory: String
        public var replay: Replay
        public var tenantId: String?

        public enum Replay: String, Decodable, Sendable, CaseIterable {
            /// Each file once; a checkpoint remembers what was delivered.
            case once
            /// Every file on every run.
            case always
        }

        enum CodingKeys: String, CodingKey {
            case directory, replay
            case tenantId = "tenant_id"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            directory = try c.decode(String.self, forKey: .directory)
            replay = try c.decodeIfPresent(Replay.self, forKey: .replay) ?? .once
            tenantId = try c.decodeIfPresent(String.self, forKey: .tenantId)
        }
    }

    public enum Plugin: SourcePlugin {
        public static let type = "graph-recorded"
        public static let summary = "Replays recorded Graph Security API answers (200 and 206 with Warning headers)"
        public static let options: [PluginOption] = [
            PluginOption(
                "directory", type: "path", default: nil,
                "folder of recorded answers (*.json), relative to the main config file"),
            PluginOption(
                "replay", type: "once | always", default: "once",
                "once: each file once, checkpointed; always: every run"),
            PluginOption("tenant_id", type: "string", default: "none", "tenant named in provider-warning events"),
        ]

        public static func makeSource(configuration: Configuration, context: SourceContext) async throws -> any Source {
            let directory =
                configuration.directory.hasPrefix("/")
                ? configuration.directory : "\(context.configurationDirectory)/\(configuration.directory)"
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw SourceStopped(
                    reason: "source '\(context.name)': recorded directory '\(directory)' does not exist")
            }
            return RecordedSource(directory: directory, configuration: configuration, context: context)
        }
    }

    let directory: String
    let configuration: Configuration
    let context: SourceContext

    public func run(publisher: any EventPublisher) async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
            .sorted()
        let store = CheckpointFile(path: "\(context.stateDirectory)/recorded.checkpoint.json")
        var completed = Set<String>()
        if configuration.replay == .once, let saved = try await store.load() {
            completed = Set((saved["completed"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
        var published = 0
        for file in files where !completed.contains(file) {
            if context.stop.isRequested { break }  // graceful shutdown: each file is checkpointed as it completes
            try Task.checkCancellation()
            let events = await replay(file: file)
            let report = try await publisher.publish(events).delivered()
            guard report.isComplete else {
                throw SourceStopped(
                    reason: "sinks did not accept the events of '\(file)'; stopping without checkpointing it")
            }
            published += events.count
            if configuration.replay == .once {
                completed.insert(file)
                try await store.save(["completed": .array(completed.sorted().map(JSONValue.string))])
            }
        }
        context.logger.info(
            "recorded source finished",
            metadata: ["source": "\(context.name)", "files": "\(files.count)", "events": "\(published)"])
    }

    /// The events of one recorded answer.
    func replay(file: String) async -> [Event] {
        let path = "\(directory)/\(file)"
        let observedAt = Timestamp.now()
        func failure(_ code: String, _ message: String) -> [Event] {
            context.logger.error("\(message)", metadata: ["source": "\(context.name)", "file": "\(path)"])
            return [
                .health(
                    CollectorHealth(
                        component: "source:\(context.name)", level: .error, code: code, message: message,
                        details: ["file": path], observedAt: observedAt))
            ]
        }
        let record: JSONValue
        do {
            guard let bytes = try AtomicFile.read(path) else {
                return failure("recording_missing", "recording '\(path)' disappeared")
            }
            record = try JSONParser.parse(bytes: bytes)
        } catch {
            return failure("recording_unreadable", "cannot read recording '\(path)': \(error)")
        }
        guard let endpointName = record["endpoint"]?.stringValue, let endpoint = GraphEndpoint(rawValue: endpointName)
        else {
            return failure(
                "recording_invalid", "recording '\(path)': 'endpoint' must be one of alerts, alerts_v2, incidents")
        }
        let status = record["status"]?.intValue ?? 200
        let query = record["request"]?.stringValue ?? "/v1.0/security/\(endpoint.rawValue)"
        var events: [Event] = []
        if status == 206 {
            var values: [String] = []
            for (name, value) in record["headers"]?.objectMembers ?? [] where name.lowercased() == "warning" {
                if let s = value.stringValue { values.append(s) }
                values += (value.arrayValue ?? []).compactMap(\.stringValue)
            }
            let (items, malformed) = WarningHeader.parse(values)
            for item in items {
                let warning = ProviderDiagnosis.warning(
                    for: item, query: query, endpoint: endpoint, tenantId: configuration.tenantId,
                    observedAt: observedAt)
                context.logger.warning(
                    "provider failed behind a 206 Partial Content answer",
                    metadata: [
                        "source": "\(context.name)", "provider": "\(item.vendor)/\(item.provider)",
                        "status": "\(item.status)", "diagnosis": "\(warning.diagnosis)",
                    ])
                events.append(.providerWarning(warning))
            }
            for bad in malformed {
                events.append(
                    .health(
                        CollectorHealth(
                            component: "source:\(context.name)", level: .warning, code: "warning_header_malformed",
                            message: "a Warning header item could not be parsed: \(bad)", details: ["file": path],
                            observedAt: observedAt)))
            }
        } else if status != 200 {
            return failure("recording_status", "recording '\(path)' holds an HTTP \(status) answer without a page")
        }
        let page: GraphPage
        do {
            page = try GraphPage(json: record["body"] ?? .null)
        } catch {
            return events + failure("page_malformed", "recording '\(path)': \(error)")
        }
        for (index, item) in page.items.enumerated() {
            do {
                events.append(.alert(try GraphNormalizer.normalize(item, endpoint: endpoint)))
            } catch {
                var e = error
                e.index = index
                events += failure("item_malformed", "recording '\(path)': \(e)")
            }
        }
        return events
    }
}
