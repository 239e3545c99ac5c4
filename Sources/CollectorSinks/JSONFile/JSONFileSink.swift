public import CollectorCore
import EventFormats
public import Logging

#if canImport(Glibc)
    import Glibc
    import CollectorSystem
#endif

/// `type: json-file`: writes events as NDJSON (one JSON object per line, see the README's
/// event schema) to files named by a path template, with size and time rotation, retention,
/// fsync policy and private permissions.
///
/// Every batch is written with whole lines only. If a write fails half way (disk full, a
/// read-only file system), the file is cut back to where the batch began and the batch is
/// retried, so a line is never torn by an error. A process killed mid-write can leave a torn
/// last line; the next open moves those bytes to `<file>.torn` and cuts the file at its last
/// newline, so every line of every file parses.
public actor JSONFileSink: Sink {
    final class OpenFile {
        let path: String
        let fd: Int32
        var size: Int64
        let openedAt: ContinuousClock.Instant
        var lastWrite: ContinuousClock.Instant
        var dirty = false
        init(path: String, fd: Int32, size: Int64) {
            self.path = path
            self.fd = fd
            self.size = size
            openedAt = .now
            lastWrite = .now
        }
    }

    private let executor: DedicatedThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let configuration: Configuration
    /// Turns each event into a line of the configured format.
    let encoder: any EventEncoding
    let logger: Logger
    let name: String
    private var files: [String: OpenFile] = [:]
    private var lastFsync = ContinuousClock.now
    /// Torn tails found and repaired since the sink opened.
    public private(set) var repairedFiles = 0

    init(configuration: Configuration, logger: Logger, name: String) {
        self.configuration = configuration
        self.encoder = configuration.formats.encoder
        self.logger = logger
        self.name = name
        self.executor = DedicatedThreadExecutor(name: "json-file:\(name)")
    }

    /// Creates the sink and its base directory.
    public static func open(configuration: Configuration, logger: Logger, name: String = "json-file") async throws
        -> JSONFileSink
    {
        let sink = JSONFileSink(configuration: configuration, logger: logger, name: name)
        try await sink.prepare()
        return sink
    }

    private func prepare() throws {
        try FileSystem.makeDirectories(configuration.directory, mode: configuration.directoryMode)
    }

    public func write(_ batch: [Event]) async throws {
        let groups = EventGroups(
            batch, path: configuration.path, timeSource: configuration.timeSource, encoder: encoder)
        // Write every file; on any failure cut every touched file back to where this batch began.
        var rollback = WriteRollback<OpenFile>()
        do {
            for group in groups.groups {
                let bytes = group.lines
                let file = try openFile(relative: group.relative, incoming: Int64(bytes.count))
                rollback.touch(file, fd: file.fd, at: file.size)
                do {
                    try FileSystem.writeAll(fd: file.fd, bytes: bytes, path: file.path)
                } catch {
                    throw SinkError.retryable("cannot write to '\(file.path)'", underlying: error)
                }
                file.size += Int64(bytes.count)
                file.lastWrite = .now
                file.dirty = true
            }
            switch configuration.fsync {
            case .never: break
            case .batch: try sync(rollback.files)
            case .interval:
                if ContinuousClock.now - lastFsync >= configuration.fsyncInterval.duration { try syncAll() }
            }
        } catch {
            rollback.cutBack { file, start, ok in
                if !ok {
                    logger.error(
                        "cannot cut a failed batch back; the file may hold part of it twice after the retry",
                        metadata: ["file": "\(file.path)"])
                }
                file.size = start
            }
            throw error
        }
        try closeIdleFiles()
    }

    /// Closes every file after syncing it; the next write opens (and creates) each by name.
    public func reopen() async throws {
        defer {
            // Closed even when the sync fails: writes must not go on into a file logrotate moved.
            for file in files.values { Glibc.close(file.fd) }
            files.removeAll()
        }
        if configuration.fsync != .never { try syncAll() }
    }

    public func flush() async throws {
        if configuration.fsync != .never { try syncAll() }
    }

    public func close() async throws {
        defer {
            for file in files.values { Glibc.close(file.fd) }
            files.removeAll()
            executor.shutdown()
        }
        if configuration.fsync != .never { try syncAll() }
    }

    private func sync(_ list: [OpenFile]) throws {
        for file in list where file.dirty {
            guard fsync(file.fd) == 0 else {
                throw SinkError.retryable("fsync failed", underlying: FileError(operation: "fsync", path: file.path))
            }
            file.dirty = false
        }
        lastFsync = .now
    }

    private func syncAll() throws { try sync(Array(files.values)) }

    /// The open file for a path, rotated first if this write would pass a limit.
    private func openFile(relative: String, incoming: Int64) throws -> OpenFile {
        let path = "\(configuration.directory)/\(relative)"
        if let file = files[path] {
            if needsRotation(file, incoming: incoming) {
                try rotate(file)
            } else {
                return file
            }
        }
        let file = try openForAppend(path)
        if needsRotation(file, incoming: incoming) && file.size > 0 {
            try rotate(file)
            let fresh = try openForAppend(path)
            files[path] = fresh
            return fresh
        }
        files[path] = file
        return file
    }

    private func needsRotation(_ file: OpenFile, incoming: Int64) -> Bool {
        if let max = configuration.maxFileSize, file.size > 0, file.size + incoming > max.bytes { return true }
        if let interval = configuration.rotateInterval, file.size > 0,
            ContinuousClock.now - file.openedAt >= interval.duration
        {
            return true
        }
        return false
    }

    private func openForAppend(_ path: String) throws -> OpenFile {
        let directory = FileSystem.directoryName(of: path)
        do {
            try FileSystem.makeDirectories(directory, mode: configuration.directoryMode)
        } catch {
            throw SinkError.retryable("cannot create directory for '\(path)'", underlying: error)
        }
        let existed = FileSystem.exists(path)
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, configuration.fileMode)
        guard fd >= 0 else {
            throw SinkError.retryable("cannot open file", underlying: FileError(operation: "open", path: path))
        }
        if !existed {
            _ = fchmod(fd, configuration.fileMode)
            FileSystem.syncDirectory(directory)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = FileError(operation: "stat", path: path)
            Glibc.close(fd)
            throw SinkError.retryable("cannot inspect file", underlying: e)
        }
        var size = Int64(st.st_size)
        if size > 0 {
            do {
                size = try repairTornTail(fd: fd, path: path, size: size)
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
        return OpenFile(path: path, fd: fd, size: size)
    }

    /// If the file does not end with a newline, moves the bytes after the last newline to
    /// `<path>.torn` and cuts the file there. Returns the new size.
    private func repairTornTail(fd: Int32, path: String, size: Int64) throws -> Int64 {
        var last: UInt8 = 0
        guard pread(fd, &last, 1, off_t(size - 1)) == 1 else {
            throw SinkError.retryable("cannot read file tail", underlying: FileError(operation: "read", path: path))
        }
        if last == 0x0A { return size }
        // Scan backwards for the last newline.
        var end = size
        var cut: Int64 = 0
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        search: while end > 0 {
            let start = max(0, end - Int64(chunk))
            let count = Int(end - start)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(start)) }
            guard n == count else {
                throw SinkError.retryable("cannot read file tail", underlying: FileError(operation: "read", path: path))
            }
            for i in stride(from: count - 1, through: 0, by: -1) where buffer[i] == 0x0A {
                cut = start + Int64(i) + 1
                break search
            }
            end = start
        }
        let tornCount = Int(size - cut)
        var torn = [UInt8](repeating: 0, count: tornCount)
        let got = torn.withUnsafeMutableBytes { pread(fd, $0.baseAddress, tornCount, off_t(cut)) }
        guard got == tornCount else {
            throw SinkError.retryable("cannot read the torn tail", underlying: FileError(operation: "read", path: path))
        }
        torn.append(0x0A)
        // Keep the partial line before cutting it off; if it cannot be kept, do not cut.
        let tornPath = "\(path).torn"
        let tfd = Glibc.open(tornPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, configuration.fileMode)
        guard tfd >= 0 else {
            throw SinkError.retryable(
                "cannot save a torn line before repairing the file",
                underlying: FileError(operation: "open", path: tornPath))
        }
        defer { Glibc.close(tfd) }
        do {
            try FileSystem.writeAll(fd: tfd, bytes: torn, path: tornPath)
        } catch {
            throw SinkError.retryable("cannot save a torn line before repairing the file", underlying: error)
        }
        guard fsync(tfd) == 0 else {
            throw SinkError.retryable(
                "cannot save a torn line before repairing the file",
                underlying: FileError(operation: "fsync", path: tornPath))
        }
        guard ftruncate(fd, off_t(cut)) == 0 else {
            throw SinkError.retryable(
                "cannot repair torn file", underlying: FileError(operation: "truncate", path: path))
        }
        _ = fsync(fd)
        repairedFiles += 1
        logger.warning(
            "repaired a torn last line left by an interrupted write; the partial line was moved aside",
            metadata: ["sink": "\(name)", "file": "\(path)", "torn_bytes": "\(tornCount)", "moved_to": "\(tornPath)"])
        return cut
    }

    /// Renames the file to `<stem>.<UTC time>[-n]<ext>` and applies retention.
    private func rotate(_ file: OpenFile) throws {
        if file.dirty && configuration.fsync != .never && fsync(file.fd) != 0 {
            throw SinkError.retryable(
                "fsync before rotation failed", underlying: FileError(operation: "fsync", path: file.path))
        }
        Glibc.close(file.fd)
        files[file.path] = nil
        let (stem, ext) = Self.split(file.path)
        let stamp = FileStamp.text(.now())
        var target = "\(stem).\(stamp)\(ext)"
        var n = 1
        while FileSystem.exists(target) {
            target = "\(stem).\(stamp)-\(n)\(ext)"
            n += 1
        }
        guard Glibc.rename(file.path, target) == 0 else {
            throw SinkError.retryable("cannot rotate", underlying: FileError(operation: "rename", path: file.path))
        }
        FileSystem.syncDirectory(FileSystem.directoryName(of: file.path))
        logger.info("rotated file", metadata: ["sink": "\(name)", "file": "\(file.path)", "rotated_to": "\(target)"])
        applyRetention(stem: stem, ext: ext)
    }

    static func split(_ path: String) -> (String, String) {
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        if let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex {
            let ext = String(fileName[dot...])
            return (String(path.dropLast(ext.count)), ext)
        }
        return (path, "")
    }

    /// Rotated siblings of `stem`+`ext`, oldest first.
    static func rotatedFiles(stem: String, ext: String) -> [String] {
        let directory = FileSystem.directoryName(of: stem)
        let base = stem.split(separator: "/").last.map(String.init) ?? stem
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(base + "."), name.hasSuffix(ext), name.count > base.count + 1 + ext.count else {
                continue
            }
            let middle = name.dropFirst(base.count + 1).dropLast(ext.count)
            // <yyyymmdd>T<hhmmss>Z or with -n.
            guard middle.count >= 16, middle.first?.isNumber == true, middle.dropFirst(8).first == "T" else { continue }
            names.append(name)
        }
        return names.sorted { a, b in
            let ka = rotationKey(a)
            let kb = rotationKey(b)
            return ka == kb ? a < b : ka < kb
        }.map { "\(directory)/\($0)" }
    }

    static func rotationKey(_ name: String) -> (String, Int) {
        // Sort by stamp, then by the -n counter numerically.
        guard let z = name.range(of: "Z", options: .backwards) else { return (name, 0) }
        let stamp = String(name[..<z.upperBound])
        let rest = name[z.upperBound...]
        if rest.hasPrefix("-"), let n = Int(rest.dropFirst().prefix { $0.isNumber }) { return (stamp, n) }
        return (stamp, 0)
    }

    private func applyRetention(stem: String, ext: String) {
        guard configuration.maxRotatedFiles > 0 else { return }
        let rotated = Self.rotatedFiles(stem: stem, ext: ext)
        guard rotated.count > configuration.maxRotatedFiles else { return }
        for old in rotated.prefix(rotated.count - configuration.maxRotatedFiles) {
            if unlink(old) == 0 {
                logger.info("deleted rotated file past retention", metadata: ["sink": "\(name)", "file": "\(old)"])
            }
        }
    }

    /// Closes the least recently written files beyond `max_open_files`.
    private func closeIdleFiles() throws {
        guard files.count > configuration.maxOpenFiles else { return }
        let victims = files.values.sorted { $0.lastWrite < $1.lastWrite }.prefix(
            files.count - configuration.maxOpenFiles)
        for file in victims {
            if file.dirty && configuration.fsync != .never && fsync(file.fd) != 0 {
                logger.error(
                    "fsync of an idle file failed before closing it",
                    metadata: ["file": "\(file.path)", "error": "\(FileError(operation: "fsync", path: file.path))"])
            }
            Glibc.close(file.fd)
            files[file.path] = nil
        }
    }
}
