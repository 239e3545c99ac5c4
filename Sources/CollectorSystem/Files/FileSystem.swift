#if canImport(Glibc)
    package import Glibc
#elseif canImport(Musl)
    package import Musl
#elseif canImport(Darwin)
    package import Darwin
#endif

/// Small POSIX helpers shared by the file-writing sinks.
package enum FileSystem {
    package static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    package static func writeAll(fd: Int32, bytes: [UInt8], path: String) throws(FileError) {
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
    package static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Creates a directory and its parents with the given mode; existing ones are left as they are.
    package static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(FileError) {
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

    package static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }
}
