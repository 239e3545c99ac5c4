import Foundation

#if canImport(Glibc)
    package import Glibc
#endif

/// A child process with pipes to its stdin, stdout and stderr, started with no blocked signals
/// and default signal handlers (a child of a Swift program otherwise inherits the signal mask of
/// whichever runtime thread started it, and may ignore SIGTERM). Blocking: use it from a
/// dedicated thread. Not thread-safe, except that stderr is read by its own thread.
package final class ChildProcess {
    struct ChildError: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t
    private(set) var stdin: Int32
    private let stdout: Int32
    private var buffer: [UInt8] = []
    private var exitStatus: Int32?
    let command: [String]

    /// Starts `command` (looked up on PATH); `onStderrLine` gets each line the child writes to stderr.
    /// With `captureOutput` false the child's stdout goes to /dev/null (nothing reads it, so a
    /// chatty child can never fill the pipe and stall).
    init(
        command: [String], environment: [String: String], directory: String?, captureOutput: Bool = true,
        onStderrLine: @escaping @Sendable (String) -> Void
    ) throws {
        self.command = command
        var inPipe: [Int32] = [0, 0]
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0 else { throw ChildError(description: "pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&outPipe) == 0 else {
            Glibc.close(inPipe[0])
            Glibc.close(inPipe[1])
            throw ChildError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        guard pipe(&errPipe) == 0 else {
            for fd in inPipe + outPipe { Glibc.close(fd) }
            throw ChildError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        // Our ends must not leak into other children; writes to the child never block (a
        // child that stops reading is caught by write_timeout).
        for fd in [inPipe[1], outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(inPipe[1], F_SETFL, fcntl(inPipe[1], F_GETFL) | O_NONBLOCK)
        // Its own process group, so stopping it also stops whatever it started (a shell pipeline).
        var attributes = Self.cleanSpawnAttributes(newProcessGroup: true)
        defer { posix_spawnattr_destroy(&attributes) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        if captureOutput {
            posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        if let directory {
            if let problem = Self.startIn(directory, actions: &actions) {
                for fd in inPipe + outPipe + errPipe { Glibc.close(fd) }
                throw ChildError(description: problem)
            }
        }
        // Nothing else of the collector's (its sockets, files, other children's pipes) goes to
        // the child: a descriptor it kept would hold a connection or a pipe open for its life.
        Self.closeInheritedDescriptors(&actions)
        let argv = command.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var merged = ProcessInfo.processInfo.environment
        for (k, v) in environment { merged[k] = v }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in envp { free(p) } }
        // Found on the PATH the child gets (the sink's environment may set one), as a shell would.
        let program = Self.locate(command[0], path: merged["PATH"], directory: directory)
        var child: pid_t = 0
        let status = posix_spawn(&child, program, &actions, &attributes, argv, envp)
        Glibc.close(inPipe[0])
        Glibc.close(outPipe[1])
        Glibc.close(errPipe[1])
        guard status == 0 else {
            Glibc.close(inPipe[1])
            Glibc.close(outPipe[0])
            Glibc.close(errPipe[0])
            throw ChildError(description: "cannot start '\(command[0])': \(String(cString: strerror(status)))")
        }
        pid = child
        stdin = inPipe[1]
        stdout = outPipe[0]
        Self.readLines(of: errPipe[0], into: onStderrLine)
    }

    /// Reads the child's stderr on its own thread, line by line, until the child closes it.
    private static func readLines(of err: Int32, into onStderrLine: @escaping @Sendable (String) -> Void) {
        let reader = Thread {
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(err, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                pending += chunk[0..<n]
                while let nl = pending.firstIndex(of: 0x0A) {
                    onStderrLine(String(decoding: pending[..<nl], as: UTF8.self))
                    pending.removeSubrange(...nl)
                }
            }
            if !pending.isEmpty { onStderrLine(String(decoding: pending, as: UTF8.self)) }
            Glibc.close(err)
        }
        reader.name = "exec-stderr"
        reader.start()
    }

    typealias AddChdir =
        @convention(c) (
            UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
        ) -> Int32

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+): the child starts in the working
    /// directory without a shell in between. Looked up at run time, because Swift's Glibc module
    /// leaves out the GNU extensions.
    static let addChdir: AddChdir? = dlsym(nil, "posix_spawn_file_actions_addchdir_np").map {
        unsafeBitCast($0, to: AddChdir.self)
    }

    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up like ``addChdir``.
    static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: AddCloseFrom.self)
    }

    /// Whether ``closeInheritedDescriptors(_:)`` does anything here (glibc 2.34 and later).
    package static var closesInheritedDescriptors: Bool { addCloseFrom != nil }

    /// Closes every descriptor from 3 up in the child, after the actions added before this one
    /// (its standard ones are in place by then): nothing else of the parent's (sockets, files,
    /// other children's pipes) goes with it. A no-op before glibc 2.34.
    package static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        _ = addCloseFrom?(&actions, 3)
    }

    /// Makes the child start in `directory`; a description of the problem when it cannot.
    static func startIn(_ directory: String, actions: inout posix_spawn_file_actions_t) -> String? {
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            return "working_directory '\(directory)' is not a directory"
        }
        guard let addChdir = Self.addChdir else {
            return "working_directory needs glibc 2.29 or later (posix_spawn_file_actions_addchdir_np)"
        }
        let status = addChdir(&actions, directory)
        return status == 0 ? nil : "cannot start in '\(directory)': \(String(cString: strerror(status)))"
    }

    /// The program to run: a name with a slash as it is (relative to the working directory), a
    /// bare name searched on `path` (the child's PATH); nil or not found: the name itself, so that
    /// the spawn reports it missing.
    static func locate(_ name: String, path: String?, directory: String?) -> String {
        guard !name.contains("/"), let path else { return name }
        for entry in path.split(separator: ":", omittingEmptySubsequences: false) {
            let folder = entry.isEmpty ? "." : String(entry)
            let base = folder.hasPrefix("/") ? folder : "\(directory ?? ".")/\(folder)"
            let candidate = "\(base)/\(name)"
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return name
    }

    /// posix_spawn attributes for a child with no blocked signals and default handlers (destroy
    /// them after use). Without them a child inherits the mask of the runtime thread that started
    /// it, and may ignore SIGTERM.
    package static func cleanSpawnAttributes(newProcessGroup: Bool) -> posix_spawnattr_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        return attributes
    }

    deinit {
        if stdin >= 0 { Glibc.close(stdin) }
        Glibc.close(stdout)
    }

    /// Writes everything or throws (the child exited, or took nothing for `timeout`).
    func write(_ bytes: [UInt8], timeout: Duration) throws {
        guard stdin >= 0 else { throw ChildError(description: "stdin is closed") }
        var offset = 0
        let deadline = ContinuousClock.now + timeout
        while offset < bytes.count {
            var descriptor = pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)
            let ms = Self.milliseconds(until: deadline)
            let ready = ms == 0 ? 0 : poll(&descriptor, 1, ms)
            if ready == 0 { throw ChildError(description: "the child read nothing for \(timeout)") }
            if ready < 0 {
                if errno == EINTR { continue }
                throw ChildError(description: "poll: \(String(cString: strerror(errno)))")
            }
            let n = bytes.withUnsafeBytes {
                Glibc.write(stdin, $0.baseAddress! + offset, min($0.count - offset, 65536))
            }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ChildError(
                    description: errno == EPIPE
                        ? "the child closed its input (it exited?)" : "write: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// The next line the child writes to stdout, or nil at end of file; throws after `timeout`.
    func readLine(timeout: Duration) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            var descriptor = pollfd(fd: stdout, events: Int16(POLLIN), revents: 0)
            let ms = Self.milliseconds(until: deadline)
            let ready = ms == 0 ? 0 : poll(&descriptor, 1, ms)
            if ready == 0 { throw ChildError(description: "no acknowledgement from the child within \(timeout)") }
            if ready < 0 {
                if errno == EINTR { continue }
                throw ChildError(description: "poll: \(String(cString: strerror(errno)))")
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(stdout, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ChildError(description: "read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return nil }
            buffer += chunk[0..<n]
        }
    }

    /// The exit status if the child has exited (reaps it), else nil.
    func exited() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exitStatus = status }
        return exitStatus
    }

    /// Closes stdin (end of input), waits up to `grace` for the child to exit, then SIGTERM, then SIGKILL.
    func stop(grace: Duration) {
        if stdin >= 0 {
            Glibc.close(stdin)
            stdin = -1
        }
        let deadline = ContinuousClock.now + grace
        while exited() == nil && ContinuousClock.now < deadline { usleep(10_000) }
        if exited() == nil {
            kill(-pid, SIGTERM)
            let hard = ContinuousClock.now + .seconds(2)
            while exited() == nil && ContinuousClock.now < hard { usleep(10_000) }
        }
        if exited() == nil {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            exitStatus = status
        }
    }

    /// "exit status 3" or "killed by signal 9".
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        return signal == 0 ? "exit status \((status >> 8) & 0xFF)" : "killed by signal \(signal)"
    }

    static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let left = deadline - ContinuousClock.now
        return Int32(
            clamping: max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
    }
}
