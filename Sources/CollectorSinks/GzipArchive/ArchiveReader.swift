public import CollectorCore
import CollectorSystem
import GzipStream

/// Checks and reads a gzip archive directory: what `graph-collector archive verify` and
/// `archive cat` do.
public enum ArchiveReader {
    /// The verdict on one file.
    public struct FileReport: Sendable, CustomStringConvertible {
        public var path: String
        public var events: Int
        public var firstEventTime: Timestamp?
        public var lastEventTime: Timestamp?
        /// Empty when the file is good.
        public var problems: [String]
        public var isGood: Bool { problems.isEmpty }
        public var description: String {
            let range = [firstEventTime, lastEventTime].compactMap { $0?.iso8601(fractionDigits: 3) }.joined(
                separator: " .. ")
            return (isGood ? "ok      " : "PROBLEM ") + "\(path)  \(events) events"
                + (range.isEmpty ? "" : "  \(range)")
                + problems.map { "\n        - \($0)" }.joined()
        }
    }

    /// Checks every `.gz` under `directory` against its manifest: readable gzip (CRC and length
    /// of every member), every line a JSON event, the count, time range and SHA-256 as
    /// recorded. An unfinished `.part` is reported as a problem (a running or crashed collector;
    /// the next start repairs it).
    public static func verify(directory: String) -> [FileReport] {
        let all = ArchiveFiles.list(under: directory)
        var reports: [FileReport] = []
        for path in all where path.hasSuffix(".gz") || path.hasSuffix(".gz.part") {
            var report = FileReport(path: path, events: 0, firstEventTime: nil, lastEventTime: nil, problems: [])
            if path.hasSuffix(".part") {
                report.problems.append(
                    "unfinished: being written, or left by a crash (the sink finishes it when it next starts)")
            }
            guard let bytes = try? AtomicFile.read(path) else {
                report.problems.append("cannot be read")
                reports.append(report)
                continue
            }
            let scan = GzipDecoder.scanMembers(bytes)
            if let problem = scan.problem { report.problems.append("gzip: \(problem)") }
            // The manifest, read once: it says what the lines are (another format than our JSON
            // events is counted, not read) and what the file should hold.
            let recorded = (try? AtomicFile.read(path + ArchiveManifest.suffix)).flatMap { $0 }.map { bytes in
                Result { try ArchiveManifest(json: String(decoding: bytes, as: UTF8.self)) }
            }
            let readsEvents =
                (try? recorded?.get())?.holdsCollectorEvents ?? ArchiveManifest.holdsCollectorEvents(scan.content)
            var lineNumber = 0
            for line in scan.content.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
                lineNumber += 1
                guard readsEvents else {
                    report.events += 1
                    continue
                }
                do {
                    let event = try Event(json: JSONParser.parse(String(decoding: line, as: UTF8.self)))
                    report.events += 1
                    if let t = event.time {
                        if report.firstEventTime.map({ t < $0 }) ?? true { report.firstEventTime = t }
                        if report.lastEventTime.map({ t > $0 }) ?? true { report.lastEventTime = t }
                    }
                } catch {
                    report.problems.append("line \(lineNumber): \(error)")
                    if report.problems.count > 5 { break }
                }
            }
            if !scan.content.isEmpty && scan.content.last != 0x0A {
                report.problems.append("the last line has no newline")
            }
            if !path.hasSuffix(".part") {
                if let recorded {
                    do {
                        let manifest = try recorded.get()
                        let sha = Digest.hex(Digest.sha256(bytes))
                        if manifest.sha256 != sha {
                            report.problems.append("SHA-256 \(sha) differs from the manifest's \(manifest.sha256)")
                        }
                        if manifest.events != report.events {
                            report.problems.append("\(report.events) events, the manifest says \(manifest.events)")
                        }
                        if !readsEvents {
                            (report.firstEventTime, report.lastEventTime) = (
                                manifest.firstEventTime, manifest.lastEventTime
                            )
                        } else if manifest.firstEventTime != report.firstEventTime
                            || manifest.lastEventTime != report.lastEventTime
                        {
                            report.problems.append("time range differs from the manifest's")
                        }
                    } catch {
                        report.problems.append("manifest: \(error)")
                    }
                } else {
                    report.problems.append("no manifest (\(path.split(separator: "/").last!)\(ArchiveManifest.suffix))")
                }
            }
            reports.append(report)
        }
        return reports
    }

    /// Calls `body` with each line (no newline) of the archive whose event time is in
    /// `from...to` (either may be nil), file by file in name order. Files whose manifest puts
    /// them outside the range are skipped without being decompressed. Files in another format
    /// than our JSON events (LEEF, CEF, OCSF, ECS) are searched by their time range only.
    /// Returns the problems met (damaged files are read up to the damage).
    @discardableResult
    public static func cat(directory: String, from: Timestamp?, to: Timestamp?, _ body: ([UInt8]) throws -> Void) throws
        -> [String]
    {
        var problems: [String] = []
        for path in ArchiveFiles.list(under: directory) where path.hasSuffix(".gz") || path.hasSuffix(".gz.part") {
            var readsEvents = true
            if let text = try? AtomicFile.read(path + ArchiveManifest.suffix).map({
                String(decoding: $0, as: UTF8.self)
            }),
                let manifest = try? ArchiveManifest(json: text)
            {
                if let from, let last = manifest.lastEventTime, last < from { continue }
                if let to, let first = manifest.firstEventTime, first > to { continue }
                // Other formats are searched by the file's time range only.
                readsEvents = manifest.holdsCollectorEvents
            }
            guard let bytes = try AtomicFile.read(path) else { continue }
            let scan = GzipDecoder.scanMembers(bytes)
            if let problem = scan.problem { problems.append("\(path): \(problem); read up to there") }
            readsEvents = readsEvents && ArchiveManifest.holdsCollectorEvents(scan.content)
            for line in scan.content.split(separator: 0x0A) where !line.isEmpty {
                if readsEvents && (from != nil || to != nil) {
                    guard let event = try? Event(json: JSONParser.parse(String(decoding: line, as: UTF8.self))),
                        let t = event.time
                    else { continue }
                    if let from, t < from { continue }
                    if let to, t > to { continue }
                }
                try body(Array(line))
            }
        }
        return problems
    }
}
