#if canImport(Glibc)
    import Glibc
    import CollectorSystem
#endif

/// A sink's durable spool: an append-only log of batches on disk, for a sink that is down or
/// slower than the sources. Events in the spool are acknowledged to the sources (they are on
/// disk, fsynced) and written to the sink in order when it can take them.
///
/// Layout: `<dir>/segment-<n>.log` files of records `GCS1 | length (u32 LE) | CRC-32 (u32 LE) |
/// NDJSON batch`, and `<dir>/read-position` (`<segment> <offset>`, replaced atomically). A
/// torn record at the end of the last segment (a crash mid-append) is cut off when the spool
/// opens; a record whose checksum does not match is skipped and reported, never a crash loop.
package actor Spool {
    package let directory: String
    package let maxBytes: Int64
    package let segmentBytes: Int64
    private let executor: DedicatedThreadExecutor
    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private var segments: [Int] = []
    private var writeFD: Int32 = -1
    private var writeSegment = 0
    private var writeOffset: Int64 = 0
    private var readSegment = 0
    private var readOffset: Int64 = 0
    /// Bytes on disk not yet consumed.
    package private(set) var pendingBytes: Int64 = 0
    package private(set) var pendingBatches = 0
    /// Records found damaged and skipped, and torn tails cut, since the spool opened.
    package private(set) var problems: [String] = []
    /// Tests only: awaited when ``next()`` finds the spool empty, before it answers. The actor is
    /// free meanwhile, so an append can land between the finding and the answer.
    private var whenFoundEmpty: (@Sendable () async -> Void)?

    static let magic: [UInt8] = Array("GCS1".utf8)

    /// A batch read from the spool; pass its position to ``commit(_:)`` once the sink took it.
    package struct Record: Sendable {
        package var events: [Event]
        package var segment: Int
        package var nextOffset: Int64
    }

    package init(directory: String, maxBytes: Int64, segmentBytes: Int64 = 64 << 20) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        executor = DedicatedThreadExecutor(name: "spool")
    }

    /// Opens (or creates) the spool and checks its last segment for a torn tail.
    package func open() throws {
        try FileSystem.makeDirectories(directory)
        segments = Self.listSegments(directory)
        if let text = try AtomicFile.read("\(directory)/read-position").map({ String(decoding: $0, as: UTF8.self) }) {
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if parts.count == 2, let s = Int(parts[0]), let o = Int64(parts[1]), s >= 1, o >= 0 {
                (readSegment, readOffset) = (s, o)
            } else {
                // A damaged position: read from the oldest segment (repeats, never skips).
                problems.append(
                    "the read position in \(directory)/read-position is damaged; reading from the oldest segment")
            }
        }
        if segments.isEmpty { segments = [max(1, readSegment)] }
        if readSegment == 0 || !segments.contains(readSegment) {
            (readSegment, readOffset) = (segments[0], readSegment == 0 ? 0 : 0)
        }
        writeSegment = segments.last!
        let path = segmentPath(writeSegment)
        writeFD = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard writeFD >= 0 else { throw FileError(operation: "open", path: path) }
        // Cut a torn record off the end of the last segment.
        let bytes = try AtomicFile.read(path) ?? []
        var offset = 0
        while offset < bytes.count {
            if let length = Self.recordLength(bytes, at: offset) {
                offset += length
                continue
            }
            // Damage in the middle (valid records follow) is the reader's to skip; only a torn
            // tail, with nothing valid after it, is cut off.
            guard let resume = Self.nextValidRecord(bytes, after: offset) else { break }
            offset = resume
        }
        if offset < bytes.count {
            guard ftruncate(writeFD, off_t(offset)) == 0 else { throw FileError(operation: "truncate", path: path) }
            problems.append("cut \(bytes.count - offset) bytes of a torn record off \(path)")
        }
        writeOffset = Int64(offset)
        _ = lseek(writeFD, off_t(writeOffset), SEEK_SET)
        recount()
    }

    /// Appends a batch durably (fsync). Throws ``SpoolFull`` when it would pass `maxBytes`.
    package func append(_ events: [Event]) throws {
        var writer = JSONWriter(reservingCapacity: 64 * 1024)
        for event in events { event.ndjsonLine(into: &writer) }
        let payload = writer.bytes
        guard pendingBytes + Int64(payload.count + 12) <= maxBytes else { throw SpoolFull(maxBytes: maxBytes) }
        if writeOffset >= segmentBytes {
            Glibc.close(writeFD)
            writeSegment += 1
            segments.append(writeSegment)
            writeFD = Glibc.open(segmentPath(writeSegment), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard writeFD >= 0 else { throw FileError(operation: "create", path: segmentPath(writeSegment)) }
            writeOffset = 0
            FileSystem.syncDirectory(directory)
        }
        var record = Self.magic
        record += Self.le32(UInt32(payload.count))
        record += Self.le32(CRC32.checksum(payload))
        record += payload
        do {
            try FileSystem.writeAll(fd: writeFD, bytes: record, path: segmentPath(writeSegment))
            guard fsync(writeFD) == 0 else { throw FileError(operation: "fsync", path: segmentPath(writeSegment)) }
        } catch {
            _ = ftruncate(writeFD, off_t(writeOffset))
            _ = lseek(writeFD, off_t(writeOffset), SEEK_SET)
            throw error
        }
        writeOffset += Int64(record.count)
        pendingBytes += Int64(record.count)
        pendingBatches += 1
    }

    /// The oldest batch not yet committed, or nil when the spool is empty. Damaged records are
    /// skipped (and reported in ``problems``).
    package func next() async throws -> Record? {
        while true {
            let path = segmentPath(readSegment)
            let end: Int64 = readSegment == writeSegment ? writeOffset : Self.fileSize(path)
            if readOffset >= end {
                guard let later = segments.first(where: { $0 > readSegment }) else {
                    await whenFoundEmpty?()
                    return nil
                }
                unlink(path)
                segments.removeAll { $0 == readSegment }
                (readSegment, readOffset) = (later, 0)
                try savePosition()
                continue
            }
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FileError(operation: "open", path: path) }
            defer { Glibc.close(fd) }
            var header = [UInt8](repeating: 0, count: 12)
            let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 12, off_t(readOffset)) }
            let length = got == 12 && Array(header[0..<4]) == Self.magic ? Int64(Self.readLE32(header, 4)) : -1
            var payload: [UInt8] = []
            var valid = length >= 0 && readOffset + 12 + length <= end
            if valid {
                payload = [UInt8](repeating: 0, count: Int(length))
                let n = payload.withUnsafeMutableBytes {
                    pread(fd, $0.baseAddress, Int(length), off_t(readOffset + 12))
                }
                valid = n == Int(length) && CRC32.checksum(payload) == Self.readLE32(header, 8)
            }
            guard valid else {
                // Skip to the next intact record (or the end of the segment) and say so.
                let bytes = Array(try AtomicFile.read(path)?.prefix(Int(end)) ?? [])
                let resume = Self.nextValidRecord(bytes, after: Int(readOffset)).map(Int64.init) ?? end
                problems.append("damaged record in \(path) at byte \(readOffset): skipped \(resume - readOffset) bytes")
                readOffset = resume
                try savePosition()
                recount()
                continue
            }
            var events: [Event] = []
            for line in payload.split(separator: 0x0A) where !line.isEmpty {
                events.append(try Event(json: JSONParser.parse(String(decoding: line, as: UTF8.self))))
            }
            return Record(events: events, segment: readSegment, nextOffset: readOffset + 12 + length)
        }
    }

    /// Marks a batch as delivered: the read position moves past it (persisted).
    package func commit(_ record: Record) throws {
        let consumed = record.segment == readSegment ? record.nextOffset - readOffset : 0
        (readSegment, readOffset) = (record.segment, record.nextOffset)
        try savePosition()
        pendingBytes = max(0, pendingBytes - consumed)
        pendingBatches = max(0, pendingBatches - 1)
    }

    /// Tests only: see ``whenFoundEmpty``.
    package func onFoundEmpty(_ action: (@Sendable () async -> Void)?) { whenFoundEmpty = action }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    package func close() {
        if writeFD >= 0 { Glibc.close(writeFD) }
        writeFD = -1
        executor.shutdown()
    }

    private func savePosition() throws {
        try AtomicFile.write(Array("\(readSegment) \(readOffset)\n".utf8), to: "\(directory)/read-position")
    }

    private func recount() {
        var bytes: Int64 = 0
        var batches = 0
        for segment in segments where segment >= readSegment {
            let data = ((try? AtomicFile.read(segmentPath(segment))) ?? nil) ?? []
            var offset = segment == readSegment ? Int(readOffset) : 0
            let end = segment == writeSegment ? Int(writeOffset) : data.count
            while offset < end, let length = Self.recordLength(data, at: offset) {
                offset += length
                bytes += Int64(length)
                batches += 1
            }
        }
        pendingBytes = bytes
        pendingBatches = batches
    }

    private func segmentPath(_ n: Int) -> String {
        let digits = String(n)
        return "\(directory)/segment-\(String(repeating: "0", count: max(0, 10 - digits.count)))\(digits).log"
    }

    static func listSegments(_ directory: String) -> [Int] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var out: [Int] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("segment-"), name.hasSuffix(".log"), let n = Int(name.dropFirst(8).dropLast(4)) {
                out.append(n)
            }
        }
        return out.sorted()
    }

    /// The length of the valid record at `offset`, or nil if it is torn or damaged.
    static func recordLength(_ bytes: [UInt8], at offset: Int) -> Int? {
        guard offset + 12 <= bytes.count, Array(bytes[offset..<offset + 4]) == magic else { return nil }
        let length = Int(readLE32(bytes, offset + 4))
        guard offset + 12 + length <= bytes.count else { return nil }
        guard CRC32.checksum(Array(bytes[(offset + 12)..<(offset + 12 + length)])) == readLE32(bytes, offset + 8) else {
            return nil
        }
        return 12 + length
    }

    /// The offset of the first intact record after `offset`, if any.
    static func nextValidRecord(_ bytes: [UInt8], after offset: Int) -> Int? {
        var i = offset + 1
        while i + 12 <= bytes.count {
            if bytes[i] == magic[0], bytes[i + 1] == magic[1], bytes[i + 2] == magic[2], bytes[i + 3] == magic[3],
                recordLength(bytes, at: i) != nil
            {
                return i
            }
            i += 1
        }
        return nil
    }

    static func le32(_ v: UInt32) -> [UInt8] {
        [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }
    static func readLE32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}

/// The spool reached its size limit.
package struct SpoolFull: Error, Sendable, CustomStringConvertible {
    package var maxBytes: Int64
    package var description: String { "the spool is full (\(maxBytes) bytes)" }
}
