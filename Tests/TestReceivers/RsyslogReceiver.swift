import CollectorCore
import CollectorSinks
public import CollectorTesting
public import Foundation

#if canImport(Glibc)
    public import Glibc
#endif

/// A real rsyslog started on loopback with a generated configuration: UDP (imudp), plain TCP
/// (imptcp, LF and octet-counted framing) and TLS (imtcp + OpenSSL driver, client certificate
/// required). Every message goes to one JSON-lines file with rsyslog's own view of the header
/// (`host`, `app`, `pri`) and the message exactly as received (`raw`).
public final class RsyslogReceiver: @unchecked Sendable {
    public struct Received: Sendable {
        public var host: String
        public var app: String
        public var pri: Int
        public var raw: String
    }

    public let directory: TemporaryDirectory
    public let udpPort: Int
    public let tcpPort: Int
    public let tlsPort: Int
    private var pid: pid_t = 0

    public var output: String { directory.file("received.jsonl") }
    public var caFile: String { directory.file("ca.pem") }
    public var clientCertificate: String { directory.file("client.pem") }
    public var clientKey: String { directory.file("client.key") }

    public init() throws {
        directory = TemporaryDirectory(prefix: "rsyslog-test")
        udpPort = try Self.freePort(udp: true)
        tcpPort = try Self.freePort(udp: false)
        tlsPort = try Self.freePort(udp: false)
        try makeCertificates()
        try writeConfiguration()
        try start()
    }

    /// The rsyslogd binary: on PATH, or where Debian puts it.
    public static var executable: String {
        for candidate in ["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "rsyslogd"
    }

    public func start() throws {
        // A port of ours may be held for a moment by another test's outgoing connection while
        // rsyslog was down (its local port comes from the same range): try again for a while.
        for _ in 0..<20 {
            do {
                return try startOnce()
            } catch let error as ReceiverError where error.description.contains("Address already in use") {
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                usleep(250_000)
            }
        }
        try startOnce()
    }

    private func startOnce() throws {
        pid = try Self.spawn(
            Self.executable, ["-n", "-f", directory.file("rsyslog.conf"), "-i", directory.file("rsyslog.pid")],
            log: directory.file("rsyslogd.log"))
        // Ready when the TCP and TLS ports accept connections.
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if Self.canConnect(port: tcpPort) && Self.canConnect(port: tlsPort) { return }
            guard Self.isAlive(pid) else { break }
            usleep(50_000)
        }
        let output = (try? String(contentsOfFile: directory.file("rsyslogd.log"), encoding: .utf8)) ?? ""
        throw ReceiverError("rsyslogd did not start listening: \(output)")
    }

    /// Stops rsyslog with SIGTERM (it finishes writing what it has read) and waits for it.
    public func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while Self.isAlive(pid) && Date() < deadline { usleep(5_000) }
        if Self.isAlive(pid) { kill(pid, SIGKILL) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    /// Starts a program with no blocked signals and default handlers: children of a test
    /// process would otherwise inherit the signal mask of the runtime's worker thread, and an
    /// rsyslogd with SIGTERM blocked never stops.
    public static func spawn(_ path: String, _ arguments: [String], log: String) throws -> pid_t {
        var attributes = ChildProcess.cleanSpawnAttributes(newProcessGroup: false)
        defer { posix_spawnattr_destroy(&attributes) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the test process: a daemon that inherited the write end of a pipe
        // another thread's shell(_:) was reading would keep that read from ever ending (CI once
        // stalled two minutes so, every test that ran a program timing out behind it).
        ChildProcess.closeInheritedDescriptors(&actions)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard status == 0 else { throw ReceiverError("cannot start \(path): \(String(cString: strerror(status)))") }
        return pid
    }

    /// Alive and not a zombie (Foundation reaps children in its own time).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    deinit {
        stop()
        directory.remove()
    }

    /// What rsyslog wrote, waiting until at least `count` messages are there (or `timeout`).
    public func received(atLeast count: Int, timeout: Duration = .seconds(20)) async throws -> [Received] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last: [Received] = []
        while clock.now < deadline {
            last = try read()
            if last.count >= count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return last
    }

    public func read() throws -> [Received] {
        guard let data = FileManager.default.contents(atPath: output) else { return [] }
        var out: [Received] = []
        // Only whole lines: rsyslog may be writing the last one.
        let complete = data.lastIndex(of: 0x0A).map { data[...$0] } ?? Data()
        for line in String(decoding: complete, as: UTF8.self).split(separator: "\n") {
            let json = try JSONParser.parse(String(line))
            out.append(
                Received(
                    host: json["host"]?.stringValue ?? "", app: json["app"]?.stringValue ?? "",
                    pri: Int(json["pri"]?.stringValue ?? "") ?? -1, raw: json["raw"]?.stringValue ?? ""))
        }
        return out
    }

    private func writeConfiguration() throws {
        let d = directory.path
        let conf = """
            global(workDirectory="\(d)" maxMessageSize="256k" parser.escapeControlCharactersOnReceive="off"
                   defaultNetstreamDriverCAFile="\(d)/ca.pem" defaultNetstreamDriverCertFile="\(d)/server.pem"
                   defaultNetstreamDriverKeyFile="\(d)/server.key")
            module(load="imudp")
            module(load="imptcp")
            module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
            template(name="received" type="list" option.jsonf="on") {
              property(outname="host" name="hostname" format="jsonf")
              property(outname="app" name="app-name" format="jsonf")
              property(outname="pri" name="pri" format="jsonf")
              property(outname="raw" name="rawmsg" format="jsonf")
            }
            ruleset(name="out" queue.type="Direct") {
              action(type="omfile" file="\(d)/received.jsonl" template="received")
            }
            input(type="imudp" address="127.0.0.1" port="\(udpPort)" ruleset="out")
            input(type="imptcp" address="127.0.0.1" port="\(tcpPort)" ruleset="out")
            input(type="imtcp" address="127.0.0.1" port="\(tlsPort)" ruleset="out")
            """
        try conf.write(toFile: directory.file("rsyslog.conf"), atomically: true, encoding: .utf8)
    }

    private func makeCertificates() throws {
        let d = directory.path
        try Self.shell(
            """
            set -e
            cd '\(d)'
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=graph-collector 2>/dev/null
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 2>/dev/null
            """)
    }

    public static func shell(_ script: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ReceiverError("shell failed (\(p.terminationStatus)): \(script.prefix(200))")
        }
    }

    public static func freePort(udp: Bool) throws -> Int {
        let (fd, port) = try boundLoopbackSocket(udp: udp)
        close(fd)
        return port
    }

    /// A socket bound to a free loopback port, and the port; the caller closes it.
    static func boundLoopbackSocket(udp: Bool) throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw ReceiverError("no free port")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

public struct ReceiverError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
