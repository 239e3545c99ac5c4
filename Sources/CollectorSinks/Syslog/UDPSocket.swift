#if canImport(Glibc)
    import Glibc
#endif

/// A connected UDP socket: one `send` is one datagram (RFC 5426: one syslog message per
/// datagram). Connecting lets the kernel report an unreachable port on the next send.
final class UDPSocket {
    struct SocketError: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var fd: Int32 = -1
    let host: String
    let port: Int

    init(host: String, port: Int) throws(SocketError) {
        self.host = host
        self.port = port
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw SocketError(description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let s = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if s < 0 {
                lastError = String(cString: strerror(errno))
                continue
            }
            if connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                fd = s
                return
            }
            lastError = String(cString: strerror(errno))
            Glibc.close(s)
        }
        throw SocketError(description: "udp \(host):\(port): \(lastError)")
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func send(_ datagram: [UInt8]) throws(SocketError) {
        guard fd >= 0 else { throw SocketError(description: "socket is closed") }
        while true {
            let n = datagram.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n == datagram.count { return }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == ENOBUFS) {
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, 1000)
                continue
            }
            throw SocketError(
                description: "udp \(host):\(port): " + (n < 0 ? String(cString: strerror(errno)) : "short send"))
        }
    }
}
