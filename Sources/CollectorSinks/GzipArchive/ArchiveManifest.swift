public import CollectorCore
public import EventFormats

#if canImport(Glibc)
    import Glibc
    import CollectorSystem
#endif

/// The sidecar of a finished archive file (`<file>.manifest.json`): what it holds and its
/// SHA-256, so an archive can be checked and searched by time without decompressing it.
public struct ArchiveManifest: Sendable, Hashable {
    public static let suffix = ".manifest.json"

    /// The archive file's name (in the same directory).
    public var file: String
    public var events: Int
    /// gzip members (one per written batch).
    public var members: Int
    public var firstEventTime: Timestamp?
    public var lastEventTime: Timestamp?
    public var uncompressedBytes: Int64
    public var compressedBytes: Int64
    /// SHA-256 of the file's bytes, lowercase hex.
    public var sha256: String
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    /// True when the file was left unfinished by a crash and finished on the next start.
    public var recovered: Bool
    /// What the lines are: `ndjson` (our events), `leef`, `cef`, `ocsf-ndjson` or `ecs-ndjson`.
    public var contentFormat = "ndjson"
    /// The lines are our JSON events, which `archive verify` and `archive cat --from` read one by
    /// one; other formats are checked by count and searched by the manifest's time range.
    public var holdsCollectorEvents: Bool { contentFormat == "ndjson" }

    /// Whether decompressed content starts like our JSON events.
    static func holdsCollectorEvents(_ content: [UInt8]) -> Bool {
        content.isEmpty || content.starts(with: Array(#"{"event_type""#.utf8))
    }

    /// The manifest's name for a sink format.
    public static func contentFormat(of format: EventFormatName) -> String {
        switch format {
        case .json: return "ndjson"
        case .leef, .cef: return format.rawValue
        case .ocsf, .ecs: return format.rawValue + "-ndjson"
        }
    }

    public var json: String {
        var members: [(String, JSONValue)] = [
            ("file", .string(file)), ("format", .string(contentFormat + "+gzip")), ("events", .number(String(events))),
            ("members", .number(String(self.members))),
        ]
        if let t = firstEventTime { members.append(("first_event_time", .string(t.iso8601()))) }
        if let t = lastEventTime { members.append(("last_event_time", .string(t.iso8601()))) }
        members += [
            ("uncompressed_bytes", .number(String(uncompressedBytes))),
            ("compressed_bytes", .number(String(compressedBytes))),
            ("sha256", .string(sha256)),
        ]
        if let t = startedAt { members.append(("started_at", .string(t.iso8601()))) }
        if let t = finishedAt { members.append(("finished_at", .string(t.iso8601()))) }
        members.append(("recovered", .bool(recovered)))
        return JSONWriter.string(.object(members)) + "\n"
    }

    public init(
        file: String, events: Int, members: Int, firstEventTime: Timestamp?, lastEventTime: Timestamp?,
        uncompressedBytes: Int64, compressedBytes: Int64, sha256: String, startedAt: Timestamp?,
        finishedAt: Timestamp?, recovered: Bool
    ) {
        self.file = file
        self.events = events
        self.members = members
        self.firstEventTime = firstEventTime
        self.lastEventTime = lastEventTime
        self.uncompressedBytes = uncompressedBytes
        self.compressedBytes = compressedBytes
        self.sha256 = sha256
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.recovered = recovered
    }

    public init(json text: String) throws {
        let v = try JSONParser.parse(text)
        guard let file = v["file"]?.stringValue, let events = v["events"]?.intValue, let sha = v["sha256"]?.stringValue
        else {
            throw ArchiveError("manifest lacks file, events or sha256")
        }
        self.file = file
        self.events = events
        members = v["members"]?.intValue ?? 0
        firstEventTime = v["first_event_time"]?.stringValue.flatMap(Timestamp.init(iso8601:))
        lastEventTime = v["last_event_time"]?.stringValue.flatMap(Timestamp.init(iso8601:))
        uncompressedBytes = Int64(v["uncompressed_bytes"]?.intValue ?? 0)
        compressedBytes = Int64(v["compressed_bytes"]?.intValue ?? 0)
        sha256 = sha
        startedAt = v["started_at"]?.stringValue.flatMap(Timestamp.init(iso8601:))
        finishedAt = v["finished_at"]?.stringValue.flatMap(Timestamp.init(iso8601:))
        if case .bool(let b)? = v["recovered"] { recovered = b } else { recovered = false }
        if let format = v["format"]?.stringValue, format.hasSuffix("+gzip") {
            contentFormat = String(format.dropLast("+gzip".count))
        }
    }

    /// Counts and time range of decompressed NDJSON content.
    static func measure(content: [UInt8]) -> ArchiveManifest {
        var manifest = ArchiveManifest(
            file: "", events: 0, members: 0, firstEventTime: nil, lastEventTime: nil,
            uncompressedBytes: Int64(content.count), compressedBytes: 0, sha256: "",
            startedAt: nil, finishedAt: nil, recovered: false)
        for line in content.split(separator: 0x0A) where !line.isEmpty {
            manifest.events += 1
            guard let event = try? Event(json: JSONParser.parse(String(decoding: line, as: UTF8.self))),
                let t = event.time
            else { continue }
            if manifest.firstEventTime.map({ t < $0 }) ?? true { manifest.firstEventTime = t }
            if manifest.lastEventTime.map({ t > $0 }) ?? true { manifest.lastEventTime = t }
        }
        return manifest
    }
}

public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Finding archive files on disk.
enum ArchiveFiles {
    /// Every regular file under `directory` (recursively, or only its own files), sorted.
    static func list(under directory: String, recursive: Bool = true) -> [String] {
        var out: [String] = []
        func walk(_ dir: String) {
            guard let handle = opendir(dir) else { return }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let path = "\(dir)/\(name)"
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    if recursive { walk(path) }
                } else if (info.st_mode & S_IFMT) == S_IFREG {
                    out.append(path)
                }
            }
        }
        walk(directory)
        // By directory, then finished files in the order they were written (a `-n` suffix after
        // the same second sorts after the plain name).
        return out.sorted { a, b in
            let (da, db) = (FileSystem.directoryName(of: a), FileSystem.directoryName(of: b))
            if da != db { return da < db }
            let na = a.split(separator: "/").last.map(String.init) ?? a
            let nb = b.split(separator: "/").last.map(String.init) ?? b
            let (ka, kb) = (JSONFileSink.rotationKey(na), JSONFileSink.rotationKey(nb))
            return ka == kb ? na < nb : (ka.0 == kb.0 ? ka.1 < kb.1 : na < nb)
        }
    }

    /// Splits at the first dot of the file name: `a/events.ndjson.gz` → (`a/events`, `.ndjson.gz`).
    static func split(_ path: String) -> (String, String) {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let name = path[slash...]
        if let dot = name.dropFirst().firstIndex(of: ".") {
            return (String(path[..<dot]), String(path[dot...]))
        }
        return (path, "")
    }

    /// Whether a file name carries a finished file's stamp (`.<yyyymmdd>T<hhmmss>Z`).
    static func isFinishedName(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let parts = name.split(separator: ".")
        return parts.contains { p in
            p.count >= 16 && p.dropFirst(8).first == "T" && p.prefix(8).allSatisfy(\.isNumber) && p.contains("Z")
        }
    }

    /// Finished siblings `<stem>.<stamp>Z[-n]<ext>`, oldest first.
    static func finished(stem: String, ext: String) -> [String] {
        let directory = FileSystem.directoryName(of: stem)
        let base = stem.split(separator: "/").last.map(String.init) ?? stem
        return list(under: directory, recursive: false).filter { path in
            let name = path.split(separator: "/").last.map(String.init) ?? path
            guard name.hasPrefix(base + "."), name.hasSuffix(ext), name.count > base.count + 1 + ext.count else {
                return false
            }
            let middle = name.dropFirst(base.count + 1).dropLast(ext.count)
            return middle.count >= 16 && middle.first?.isNumber == true && middle.dropFirst(8).first == "T"
                && middle.contains("Z")
        }.sorted {
            JSONFileSink.rotationKey($0.split(separator: "/").last.map(String.init)!)
                < JSONFileSink.rotationKey($1.split(separator: "/").last.map(String.init)!)
        }
    }
}
