#if canImport(Glibc)
public import Glibc
#elseif canImport(Musl)
public import Musl
#elseif canImport(Darwin)
public import Darwin
#endif

/// Crash-safe small-file writes for checkpoints and manifests: the bytes go to a temporary file
/// in the same directory, which is fsync'ed, renamed over the target, and the directory fsync'ed,
/// so a reader finds the old content or the new, never a mixture. Blocking: call it from a
/// dedicated thread (see ``DedicatedThreadExecutor``), not from the cooperative pool.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(FileError) {
        let directory = FileSystem.directoryName(of: path)
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(operation: "create", path: temporary) }
        do throws(FileError) {
            try FileSystem.writeAll(fd: fd, bytes: bytes, path: temporary)
            guard fsync(fd) == 0 else { throw FileError(operation: "fsync", path: temporary) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let e = FileError(operation: "rename into place", path: path)
            unlink(temporary)
            throw e
        }
        FileSystem.syncDirectory(directory)
    }

    /// The whole file, or nil if it does not exist.
    public static func read(_ path: String) throws(FileError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileError(operation: "open", path: path)
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(operation: "read", path: path)
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
        }
        return result
    }
}

/// A failed file-system call, with the operation, the path and the system's reason.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var code: Int32
    public var reason: String

    public init(operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
        self.reason = String(cString: strerror(code))
    }

    public var description: String { "cannot \(operation) '\(path)': \(reason)" }
}

/// Small POSIX helpers shared by the file-writing sinks.
public enum FileSystem {
    public static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func writeAll(fd: Int32, bytes: [UInt8], path: String) throws(FileError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(operation: "write", path: path)
            }
            offset += n
        }
    }

    /// fsync of a directory, so that a rename or a new file in it survives a power loss.
    public static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Creates a directory and its parents with the given mode; existing ones are left as they are.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(FileError) {
        if path.isEmpty || path == "/" || path == "." { return }
        var st = stat()
        if stat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR { return }
            throw FileError(operation: "create directory (a file is in the way)", path: path, code: ENOTDIR)
        }
        try makeDirectories(directoryName(of: path), mode: mode)
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw FileError(operation: "create directory", path: path)
        }
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }
}
