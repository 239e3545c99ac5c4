public import CollectorCore
import EventFormats
import GzipStream
public import Logging

#if canImport(Glibc)
    import Glibc
    import CollectorSystem
#endif

/// `type: gzip-archive`: NDJSON events compressed with gzip into rotating `.gz` files, each
/// with a manifest (event count, first and last event time, SHA-256) so an archive can be
/// verified and searched by time without decompressing everything.
///
/// **Readable after any crash.** The file being written is `<name>.part`; every batch is written
/// as one complete gzip member (gzip files may hold many; `zcat` reads them all), so whatever a
/// batch's acceptance promised is on disk as valid gzip. A failed write is cut back to the end of
/// the previous member. When a file is finished (size, age, shutdown) it is renamed to
/// `<stem>.<UTC time>Z<ext>` and its manifest `<that name>.manifest.json` written. On start, a
/// `.part` left by a crash is truncated after its last complete member and finished before any
/// new event is written. A `.part` is never appended to across restarts, and nothing is ever
/// appended to a finished file.
public actor GzipArchiveSink: Sink {
    final class OpenArchive {
        let relative: String
        let partPath: String
        let fd: Int32
        var compressedBytes: Int64 = 0
        var uncompressedBytes: Int64 = 0
        var events = 0
        var members = 0
        var firstEventTime: Timestamp?
        var lastEventTime: Timestamp?
        let openedAt: Timestamp
        let openedClock: ContinuousClock.Instant

        init(relative: String, partPath: String, fd: Int32) {
            self.relative = relative
            self.partPath = partPath
            self.fd = fd
            openedAt = .now()
            openedClock = .now
        }
    }

    private let executor: DedicatedThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public let configuration: Configuration
    /// Turns each event into a line of the configured format.
    let lineEncoder: any EventEncoding
    let logger: Logger
    let name: String
    private var files: [String: OpenArchive] = [:]
    /// Serializes on the sink's thread and compresses on a second one.
    private let compressor: PipelinedCompressor
    /// Events serialized per chunk: small enough that the two threads overlap for most of a
    /// batch, large enough that handing a chunk over costs nothing measurable.
    static let chunkEvents = 32
    /// `.part` files found and finished when the sink opened.
    public private(set) var recoveredFiles: [String] = []

    init(configuration: Configuration, logger: Logger, name: String) throws {
        self.configuration = configuration
        self.lineEncoder = configuration.formats.encoder
        self.logger = logger
        self.name = name
        self.compressor = try PipelinedCompressor(level: Int32(configuration.level), name: "gzip:\(name)")
        self.executor = DedicatedThreadExecutor(name: "gzip-archive:\(name)")
    }

    /// Creates the sink: makes the directory and finishes any `.part` left by a crash.
    public static func open(configuration: Configuration, logger: Logger, name: String = "gzip-archive") async throws
        -> GzipArchiveSink
    {
        let sink = try GzipArchiveSink(configuration: configuration, logger: logger, name: name)
        try await sink.prepare()
        return sink
    }

    private func prepare() throws {
        try FileSystem.makeDirectories(configuration.directory, mode: configuration.directoryMode)
        for part in ArchiveFiles.list(under: configuration.directory).filter({ $0.hasSuffix(".gz.part") }) {
            try recover(part)
        }
    }

    // MARK: Writing

    public func write(_ batch: [Event]) async throws {
        guard !batch.isEmpty else { return }
        // Compress every file's share first: a compression failure touches no file.
        var members: [(String, [UInt8], Int, [Event])] = []
        for (relative, indices) in EventGroups.partition(
            batch, path: configuration.path, timeSource: configuration.timeSource)
        {
            let chunks = (indices.count + Self.chunkEvents - 1) / Self.chunkEvents
            do {
                let (member, uncompressed) = try compressor.member(chunks: chunks) { chunk, lines in
                    for i in indices[(chunk * Self.chunkEvents)..<min(indices.count, (chunk + 1) * Self.chunkEvents)] {
                        lineEncoder.encode(batch[i], into: &lines)
                        lines.append(0x0A)
                    }
                }
                members.append((relative, member, uncompressed, indices.map { batch[$0] }))
            } catch {
                throw SinkError.permanent("gzip compression failed: \(error)")
            }
        }
        // Write each member; on failure cut every touched file back to its previous end, so
        // the file again ends with a complete member and the retry writes the batch once.
        var rollback = WriteRollback<OpenArchive>()
        do {
            for (relative, member, _, _) in members {
                let file = try openArchive(relative)
                rollback.touch(file, fd: file.fd, at: file.compressedBytes)
                try FileSystem.writeAll(fd: file.fd, bytes: member, path: file.partPath)
                file.compressedBytes += Int64(member.count)
            }
            if configuration.fsync {
                for file in rollback.files where Glibc.fsync(file.fd) != 0 {
                    throw FileError(operation: "fsync", path: file.partPath)
                }
            }
        } catch {
            rollback.cutBack { file, size, ok in
                file.compressedBytes = size
                guard !ok else { return }
                // Never append after a torn member: leave this part alone; the next write (or
                // start) cuts it back to its last complete member and finishes it.
                logger.error(
                    "could not cut a failed batch back; the file will be finished at its last complete member",
                    metadata: ["sink": "\(name)", "file": "\(file.partPath)"])
                Glibc.close(file.fd)
                files[file.relative] = nil
            }
            throw SinkError.retryable("gzip archive write failed: \(error)")
        }
        for (relative, _, uncompressed, events) in members {
            let file = files[relative]!
            file.uncompressedBytes += Int64(uncompressed)
            file.members += 1
            file.events += events.count
            for event in events {
                guard let t = event.time else { continue }
                if file.firstEventTime.map({ t < $0 }) ?? true { file.firstEventTime = t }
                if file.lastEventTime.map({ t > $0 }) ?? true { file.lastEventTime = t }
            }
        }
        // Finish files that reached their size or age. The batch is already durable: a failure
        // here must not make the pipeline write it again, so it is logged and tried again later.
        for file in rollback.files where isDue(file) {
            do { try finish(file) } catch {
                logger.error(
                    "could not finish an archive file; the next start finishes it",
                    metadata: [
                        "sink": "\(name)", "file": "\(file.partPath)", "error": "\(error)",
                    ])
            }
        }
    }

    public func flush() async throws {
        for file in files.values {
            if configuration.fsync { _ = Glibc.fsync(file.fd) }
            if isDue(file) { try finish(file) }
        }
    }

    public func close() async throws {
        defer {
            compressor.shutdown()
            executor.shutdown()
        }
        var failure: (any Error)?
        for file in files.values.sorted(by: { $0.partPath < $1.partPath }) {
            do { try finish(file) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func isDue(_ file: OpenArchive) -> Bool {
        if let max = configuration.maxFileSize {
            let size = configuration.sizeMeasure == .compressed ? file.compressedBytes : file.uncompressedBytes
            if size >= max.bytes { return true }
        }
        if let interval = configuration.rotateInterval, ContinuousClock.now - file.openedClock >= interval.duration {
            return true
        }
        return false
    }

    private func openArchive(_ relative: String) throws -> OpenArchive {
        if let file = files[relative] { return file }
        let path = "\(configuration.directory)/\(relative)"
        try FileSystem.makeDirectories(FileSystem.directoryName(of: path), mode: configuration.directoryMode)
        let part = "\(path).part"
        // A part exists only if a previous start could not finish it; finish it first.
        if FileSystem.exists(part) { try recover(part) }
        let fd = Glibc.open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(configuration.fileMode))
        guard fd >= 0 else { throw FileError(operation: "create", path: part) }
        FileSystem.syncDirectory(FileSystem.directoryName(of: part))
        let file = OpenArchive(relative: relative, partPath: part, fd: fd)
        files[relative] = file
        return file
    }

    // MARK: Finishing

    /// Closes a part, renames it to its final name, writes its manifest, applies retention.
    private func finish(_ file: OpenArchive) throws {
        files[file.relative] = nil
        if configuration.fsync { _ = Glibc.fsync(file.fd) }
        Glibc.close(file.fd)
        guard file.members > 0 else {
            unlink(file.partPath)
            return
        }
        var manifest = ArchiveManifest(
            file: "", events: file.events, members: file.members, firstEventTime: file.firstEventTime,
            lastEventTime: file.lastEventTime, uncompressedBytes: file.uncompressedBytes,
            compressedBytes: file.compressedBytes,
            sha256: "", startedAt: file.openedAt, finishedAt: .now(), recovered: false)
        manifest.contentFormat = ArchiveManifest.contentFormat(of: configuration.formats.name)
        try complete(part: file.partPath, manifest: manifest, startedAt: file.openedAt)
    }

    /// Renames `part` to its final name with the manifest's SHA-256 of the exact bytes.
    private func complete(part: String, manifest: ArchiveManifest, startedAt: Timestamp) throws {
        guard let bytes = try AtomicFile.read(part) else { return }
        let final = Self.finalName(for: String(part.dropLast(".part".count)), startedAt: startedAt)
        var manifest = manifest
        manifest.file = final.split(separator: "/").last.map(String.init) ?? final
        manifest.sha256 = Digest.hex(Digest.sha256(bytes))
        manifest.compressedBytes = Int64(bytes.count)
        // Manifest first, then the rename: a crash in between leaves a part that is finished
        // again on the next start (and its stray manifest is rewritten).
        try AtomicFile.write(
            Array(manifest.json.utf8), to: final + ArchiveManifest.suffix, mode: mode_t(configuration.fileMode))
        guard Glibc.rename(part, final) == 0 else { throw FileError(operation: "rename", path: part) }
        FileSystem.syncDirectory(FileSystem.directoryName(of: final))
        logger.info(
            "archive file finished",
            metadata: [
                "sink": "\(name)", "file": "\(final)", "events": "\(manifest.events)", "bytes": "\(bytes.count)",
            ])
        applyRetention(base: String(part.dropLast(".part".count)))
    }

    /// Truncates a part left by a crash after its last complete member and finishes it.
    private func recover(_ part: String) throws {
        guard let bytes = try AtomicFile.read(part) else { return }
        let scan = GzipDecoder.scanMembers(bytes)
        if scan.validLength < bytes.count {
            guard truncate(part, off_t(scan.validLength)) == 0 else {
                throw FileError(operation: "truncate", path: part)
            }
            logger.warning(
                "cut an unfinished archive file back to its last complete gzip member",
                metadata: [
                    "sink": "\(name)", "file": "\(part)", "kept_bytes": "\(scan.validLength)",
                    "dropped_bytes": "\(bytes.count - scan.validLength)",
                    "reason": "\(scan.problem ?? "")",
                ])
        }
        if scan.members == 0 {
            unlink(part)
            return
        }
        var manifest = ArchiveManifest.measure(content: scan.content)
        // What the file holds, not what the sink is configured for now (it may have changed).
        manifest.contentFormat =
            ArchiveManifest.holdsCollectorEvents(scan.content)
            ? "ndjson"
            : configuration.formats.name == .json
                ? "unknown" : ArchiveManifest.contentFormat(of: configuration.formats.name)
        manifest.members = scan.members
        manifest.recovered = true
        var info = stat()
        let started =
            stat(part, &info) == 0
            ? Timestamp(nanosecondsSinceEpoch: Int64(info.st_mtim.tv_sec) * 1_000_000_000) : Timestamp.now()
        manifest.startedAt = started
        manifest.finishedAt = .now()
        try complete(part: part, manifest: manifest, startedAt: started)
        recoveredFiles.append(part)
    }

    /// `<dir>/<stem>.<yyyymmddThhmmss>Z[-n]<ext>`, with ext from the first dot of the file name
    /// (`events.ndjson.gz` → `events.20261123T141530Z.ndjson.gz`).
    static func finalName(for path: String, startedAt: Timestamp) -> String {
        let (stem, ext) = ArchiveFiles.split(path)
        let stamp = FileStamp.text(startedAt)
        // Files finished within one second get -1, -2, …: always above any sibling of that
        // second still present, so names sort in the order the files were written even after
        // retention deleted the earlier ones.
        let base = (stem.split(separator: "/").last.map(String.init) ?? stem) + "." + stamp
        let directory = FileSystem.directoryName(of: stem)
        var highest = -1
        for sibling in ArchiveFiles.list(under: directory, recursive: false) {
            let name = sibling.split(separator: "/").last.map(String.init) ?? sibling
            guard name.hasPrefix(base), name.hasSuffix(ext) || name.hasSuffix(ext + ArchiveManifest.suffix) else {
                continue
            }
            let rest = name.dropFirst(base.count)
            if rest.hasPrefix(ext) {
                highest = max(highest, 0)
            } else if rest.hasPrefix("-"), let n = Int(rest.dropFirst().prefix { $0.isNumber }) {
                highest = max(highest, n)
            }
        }
        let target = highest < 0 ? "\(stem).\(stamp)\(ext)" : "\(stem).\(stamp)-\(highest + 1)\(ext)"
        return target
    }

    private func applyRetention(base: String) {
        let (stem, ext) = ArchiveFiles.split(base)
        let siblings = ArchiveFiles.finished(stem: stem, ext: ext)
        var doomed: [String] = []
        if configuration.maxFiles > 0 && siblings.count > configuration.maxFiles {
            doomed += siblings.prefix(siblings.count - configuration.maxFiles)
        }
        if let maxAge = configuration.maxAge {
            // Every finished file under the directory, not only this path's: with a dated
            // template, earlier days' files have other names.
            let cutoff = Int(Timestamp.now().secondsSinceEpoch) - Int(maxAge.seconds)
            let finished = ArchiveFiles.list(under: configuration.directory).filter {
                $0.hasSuffix(".gz") && ArchiveFiles.isFinishedName($0)
            }
            for file in finished where !doomed.contains(file) {
                var info = stat()
                if stat(file, &info) == 0 && Int(info.st_mtim.tv_sec) < cutoff { doomed.append(file) }
            }
        }
        for file in doomed {
            unlink(file + ArchiveManifest.suffix)
            if unlink(file) == 0 {
                logger.info("deleted archive file past retention", metadata: ["sink": "\(name)", "file": "\(file)"])
            }
        }
    }
}
