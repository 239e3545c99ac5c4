import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// systemd's notification protocol (`sd_notify(3)`): one datagram per state change to the
/// AF_UNIX socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). Without
/// the variable every call does nothing, so the collector runs the same outside systemd.
///
/// A send waits at most 250 ms for a full socket (systemd reads it continuously); the first
/// failure is logged. Once `STOPPING=1` is sent, `READY=1` never follows.
struct SystemdNotifier: Sendable {
    let socketPath: String?
    /// From `WATCHDOG_USEC` (when `WATCHDOG_PID` is unset or this process): how often systemd
    /// expects `WATCHDOG=1`; the collector sends it at half that interval.
    let watchdogInterval: Duration?
    let logger: Logger?
    private let state = State()

    private final class State: Sendable {
        let stopping = Atomic<Bool>(false)
        let failureLogged = Atomic<Bool>(false)
    }

    init(environment: [String: String], logger: Logger? = nil) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        self.logger = logger
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if path != nil, forUs, let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 {
            watchdogInterval = .microseconds(usec)
        } else {
            watchdogInterval = nil
        }
    }

    var isActive: Bool { socketPath != nil }

    /// `MONOTONIC_USEC=…`, which systemd wants beside `RELOADING=1`.
    static var monotonicField: String {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return "MONOTONIC_USEC=\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)"
    }

    /// Sends `state` (`READY=1`, `STATUS=…`, `STOPPING=1`, …; lines separated by newlines).
    /// Returns the error text when the datagram could not be sent.
    @discardableResult
    func notify(_ message: String) -> String? {
        guard let path = socketPath else { return nil }
        if message.hasPrefix("STOPPING=1") { state.stopping.store(true, ordering: .sequentiallyConsistent) }
        if message.hasPrefix("READY=1"), state.stopping.load(ordering: .sequentiallyConsistent) { return nil }
        guard let problem = Self.send(message, to: path) else { return nil }
        if !state.failureLogged.exchange(true, ordering: .relaxed) {
            logger?.warning(
                "cannot notify systemd (NOTIFY_SOCKET); further failures are not logged",
                metadata: ["error": "\(problem)"])
        }
        return problem
    }

    private static func send(_ message: String, to path: String) -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 0, tv_usec: 250_000)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // the abstract namespace
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            return "NOTIFY_SOCKET is longer than a socket path may be"
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let payload = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(fd, payload, payload.count, Int32(MSG_NOSIGNAL), socketAddress, length)
            }
        }
        return sent == payload.count ? nil : "sendto \(path): \(String(cString: strerror(errno)))"
    }
}
