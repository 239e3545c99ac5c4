#if canImport(Glibc)
    import Glibc
#endif

/// A loopback TCP port that refuses connections for as long as this lives: bound and never
/// listening, so no other test can take it meanwhile, as it could a port found free and closed
/// again (a simulator of a test running beside once answered there with HTTP 405).
public final class RefusingPort: Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws { (fd, port) = try RsyslogReceiver.boundLoopbackSocket(udp: false) }

    deinit { close(fd) }
}
