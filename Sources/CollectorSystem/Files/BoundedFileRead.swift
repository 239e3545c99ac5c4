#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a file given in configuration (the file itself, an include, a `*_file` secret) could not
/// be read. The description names the path and the cause, never the file's content.
package struct BoundedReadError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Cause: Sendable, Equatable {
        case notFound
        /// A directory, device, FIFO or socket: what it is instead.
        case notRegular(String)
        /// Larger than the limit, in bytes.
        case tooLarge(Int)
        /// open or read failed; the system's reason.
        case system(String)
    }

    package var path: String
    package var cause: Cause

    package var description: String {
        switch cause {
        case .notFound: return "'\(path)': no such file"
        case .notRegular(let what): return "'\(path)' is \(what), not a regular file"
        case .tooLarge(let limit): return "'\(path)' is larger than \(Self.size(limit)), the limit for this file"
        case .system(let reason): return "cannot read '\(path)': \(reason)"
        }
    }

    /// `1MiB`, `256KiB`, or bytes.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes) bytes"
    }
}

extension FileSystem {
    /// The largest configuration file (or included file) read: 1 MiB.
    package static let configurationFileLimit = 1 << 20
    /// The largest secret file (`client_secret_file`, keys, certificates) read: 256 KiB.
    package static let secretFileLimit = 256 << 10

    /// Reads a whole regular file of at most `limit` bytes. Anything else — a directory, a
    /// device, a FIFO, a `/proc` file that never ends, a file over the limit — is refused with
    /// the reason, after reading at most `limit` and 64 KiB. Blocking: for start-up and commands.
    package static func readRegularFile(_ path: String, limit: Int) throws(BoundedReadError) -> [UInt8] {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw BoundedReadError(path: path, cause: .notFound) }
            throw BoundedReadError(path: path, cause: .system(String(cString: strerror(code))))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw BoundedReadError(path: path, cause: .system(String(cString: strerror(errno))))
        }
        if let what = fileKind(mode: info.st_mode) { throw BoundedReadError(path: path, cause: .notRegular(what)) }
        if Int64(info.st_size) > Int64(limit) { throw BoundedReadError(path: path, cause: .tooLarge(limit)) }
        // The size can lie (`/proc` files say 0): stop one buffer past the limit whatever it says.
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while result.count <= limit {
            // Whole buffers: some kernel files (pagemap) refuse reads of odd sizes.
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BoundedReadError(path: path, cause: .system(String(cString: strerror(errno))))
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
        }
        if result.count > limit { throw BoundedReadError(path: path, cause: .tooLarge(limit)) }
        return result
    }

    /// What a non-regular file is, in words; nil for a regular file.
    static func fileKind(mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        default: return "not a plain file"
        }
    }
}
