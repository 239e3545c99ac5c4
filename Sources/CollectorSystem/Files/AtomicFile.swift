#if canImport(Glibc)
    package import Glibc
#elseif canImport(Musl)
    package import Musl
#elseif canImport(Darwin)
    package import Darwin
#endif

/// Crash-safe small-file writes for checkpoints and manifests: the bytes go to a temporary file
/// in the same directory, which is fsync'ed, renamed over the target, and the directory fsync'ed,
/// so a reader finds the old content or the new, never a mixture. Blocking: call it from a
/// dedicated thread (see ``DedicatedThreadExecutor``), not from the cooperative pool.
package enum AtomicFile {
    /// - Parameter durable: false skips the fsyncs, for a file rewritten every few seconds whose
    ///   loss in a power cut does not matter (readers still never see a mixture).
    package static func write(
        _ bytes: [UInt8], to path: String, mode: mode_t = 0o600, durable: Bool = true
    ) throws(FileError) {
        let directory = FileSystem.directoryName(of: path)
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(operation: "create", path: temporary) }
        do throws(FileError) {
            try FileSystem.writeAll(fd: fd, bytes: bytes, path: temporary)
            guard !durable || fsync(fd) == 0 else { throw FileError(operation: "fsync", path: temporary) }
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
        if durable { FileSystem.syncDirectory(directory) }
    }

    /// The whole file, or nil if it does not exist.
    package static func read(_ path: String) throws(FileError) -> [UInt8]? {
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
package struct FileError: Error, Sendable, CustomStringConvertible {
    package var operation: String
    package var path: String
    package var code: Int32
    package var reason: String

    package init(operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
        self.reason = String(cString: strerror(code))
    }

    package var description: String { "cannot \(operation) '\(path)': \(reason)" }
}
