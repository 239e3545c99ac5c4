#if canImport(Glibc)
    import Glibc
#endif

/// systemd's notification protocol (`sd_notify(3)`): one datagram per state change to the
/// AF_UNIX socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). Without
/// the variable every call does nothing, so the collector runs the same outside systemd.
///
/// The sends are non-blocking (`MSG_DONTWAIT`): a full or vanished socket never holds the
/// collector; a failure is remembered for the log, once.
struct SystemdNotifier: Sendable {
    let socketPath: String?
    /// From `WATCHDOG_USEC` (when `WATCHDOG_PID` is unset or this process): how often systemd
    /// expects `WATCHDOG=1`; the collector sends it at half that interval.
    let watchdogInterval: Duration?

    init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if path != nil, forUs, let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 {
            watchdogInterval = .microseconds(usec)
        } else {
            watchdogInterval = nil
        }
    }

    var isActive: Bool { socketPath != nil }

    /// Sends `state` (`READY=1`, `STATUS=…`, `STOPPING=1`, …; lines separated by newlines).
    /// Returns the error text when the datagram could not be sent.
    @discardableResult
    func notify(_ state: String) -> String? {
        guard let path = socketPath else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // the abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return "NOTIFY_SOCKET is longer than a socket path may be" }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(fd, message, message.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), socketAddress, length)
            }
        }
        return sent == message.count ? nil : "sendto \(path): \(String(cString: strerror(errno)))"
    }
}
