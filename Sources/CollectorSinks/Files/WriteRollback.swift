import CollectorCore

#if canImport(Glibc)
    import Glibc
#endif

/// Where each file a batch touched ended before the batch. When any write of the batch fails,
/// every touched file is cut back there, so that the retry neither tears a line (or a gzip
/// member) nor writes one twice. Shared by json-file and gzip-archive.
struct WriteRollback<File: AnyObject> {
    struct Start {
        let file: File
        let fd: Int32
        let offset: Int64
    }

    private(set) var starts: [Start] = []

    /// Remembers where `file` ended, the first time the batch touches it.
    mutating func touch(_ file: File, fd: Int32, at offset: Int64) {
        guard !starts.contains(where: { $0.file === file }) else { return }
        starts.append(Start(file: file, fd: fd, offset: offset))
    }

    var files: [File] { starts.map(\.file) }

    /// Cuts every touched file back to where it ended before the batch and moves its write
    /// position there; `cut` is told each file, its old end, and whether that worked.
    func cutBack(_ cut: (File, Int64, Bool) -> Void) {
        for start in starts {
            let ok =
                ftruncate(start.fd, off_t(start.offset)) == 0 && lseek(start.fd, off_t(start.offset), SEEK_SET) >= 0
            cut(start.file, start.offset, ok)
        }
    }
}

/// The UTC time stamp in the names of rotated and finished files: `20261123T141530Z`.
enum FileStamp {
    static func text(_ time: Timestamp) -> String {
        let c = time.utcComponents
        return
            "\(pad(c.year, 4))\(pad(c.month, 2))\(pad(c.day, 2))T\(pad(c.hour, 2))\(pad(c.minute, 2))\(pad(c.second, 2))Z"
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
