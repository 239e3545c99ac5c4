public import CollectorTesting
public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// nghttpx (Debian's nghttp2-proxy) on loopback: TLS with a certificate for `localhost` only,
/// from a test CA (``caFile``), offering HTTP/2 and HTTP/1.1 by ALPN, in front of a plain
/// HTTP/1.1 backend. Its access log records the protocol each request arrived by.
public final class TLSTerminator: @unchecked Sendable {
    public let directory = TemporaryDirectory(prefix: "nghttpx-test")
    public let port: Int
    private let pid: pid_t

    /// The nghttpx binary: on PATH, or where Debian puts it.
    public static var executable: String {
        for candidate in ["/usr/sbin/nghttpx", "/usr/bin/nghttpx"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "nghttpx"
    }

    public init(backendPort: Int) throws {
        try TestCertificates.make(in: directory.path, serverNames: "DNS:localhost")
        port = try RsyslogReceiver.freePort(udp: false)
        pid = try RsyslogReceiver.spawn(
            Self.executable,
            [
                "--frontend=127.0.0.1,\(port)", "--backend=127.0.0.1,\(backendPort)", "--workers=1", "--no-ocsp",
                "--accesslog-file=\(directory.file("access.log"))", "--accesslog-format=$alpn $status $method $path",
                "--errorlog-file=\(directory.file("error.log"))", "--log-level=WARN",
                directory.file("server.key"), directory.file("server.pem"),
            ],
            log: directory.file("nghttpx.out"))
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && !RsyslogReceiver.canConnect(port: port) { usleep(50_000) }
        guard RsyslogReceiver.canConnect(port: port) else {
            let output = (try? String(contentsOfFile: directory.file("nghttpx.out"), encoding: .utf8)) ?? ""
            throw ReceiverError("nghttpx did not start listening: \(output)")
        }
    }

    public var caFile: String { directory.file("ca.pem") }
    /// The URL with the name the certificate holds.
    public var url: String { "https://localhost:\(port)" }

    /// Each request as nghttpx saw it: the protocol (`h2`, `http/1.1`), status, method, path.
    public func accessLog() -> [String] {
        ((try? String(contentsOfFile: directory.file("access.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        directory.remove()
    }
}
