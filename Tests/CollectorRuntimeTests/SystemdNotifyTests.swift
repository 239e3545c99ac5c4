import CollectorTesting
import Foundation
import Synchronization
import Testing

@testable import CollectorRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// The sd_notify protocol, heard the way systemd hears it: datagrams on the NOTIFY_SOCKET.
@Suite struct SystemdNotifyTests {
    /// A datagram socket bound at `path` (a leading `@`: the abstract namespace), read on its own
    /// thread as systemd reads it, so the sender never finds it full.
    final class NotifySocket: Sendable {
        let path: String
        private let fd: Int32
        private let messages = Mutex<[String]>([])
        private let done = Atomic<Bool>(false)
        private let finished = DispatchSemaphore(value: 0)

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(path.utf8)
            if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard fd >= 0, bound == 0 else { throw CocoaError(.fileWriteUnknown) }
            var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let thread = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while !done.load(ordering: .relaxed) {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n > 0 {
                        let message = String(decoding: buffer[0..<n], as: UTF8.self)
                        messages.withLock { $0.append(message) }
                    }
                }
                finished.signal()
            }
            thread.start()
        }

        /// Stops the reader, closes the socket, and returns everything it received.
        func stop() -> [String] {
            done.store(true, ordering: .relaxed)
            finished.wait()
            close(fd)
            return messages.withLock { $0 }
        }
    }

    @Test func aRunSaysReadyThenStoppingAndFeedsTheWatchdog() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let listener = try NotifySocket(path: dir.file("notify"))
        let config = try dir.write(
            "c.yaml",
            """
            sources:
              - type: synthetic
                count: 3000
                batch_size: 100
            sinks:
              - type: json-file
                directory: out
            """)
        let result = try await CollectorProcess.run(
            ["run", "--config", config],
            environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000"])
        let messages = listener.stop()
        #expect(result.status == 0, "\(result.stderr)")
        let ready = try #require(messages.firstIndex { $0.hasPrefix("READY=1\n") }, "\(messages)")
        let stopping = try #require(messages.firstIndex { $0.hasPrefix("STOPPING=1\n") }, "\(messages)")
        #expect(ready < stopping)
        #expect(messages[ready].contains("STATUS=collecting: 1 source(s) into 1 sink(s)"))
        #expect(messages.contains { $0.hasPrefix("WATCHDOG=1\nSTATUS=collecting: ") }, "\(messages)")
        #expect(!messages[stopping...].contains { $0.hasPrefix("READY=1") }, "no READY after STOPPING")
    }

    @Test func theEnvironmentDecidesWhatIsSent() throws {
        #expect(!SystemdNotifier(environment: [:]).isActive)
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).isActive)
        let mine = SystemdNotifier(environment: [
            "NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())",
        ])
        #expect(mine.watchdogInterval == .seconds(30))
        let other = SystemdNotifier(environment: [
            "NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1",
        ])
        #expect(other.watchdogInterval == nil, "another process's watchdog")
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogInterval == nil)
        #expect(
            SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "x"]).watchdogInterval == nil)
    }

    @Test func anAbstractSocketIsReachedAndReadyNeverFollowsStopping() async throws {
        let name = "@graph-collector-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try NotifySocket(path: name)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        #expect(notifier.notify("READY=1\nSTATUS=up") == nil)
        #expect(notifier.notify("STOPPING=1") == nil)
        notifier.notify("READY=1")
        try await Task.sleep(for: .milliseconds(200))
        #expect(listener.stop() == ["READY=1\nSTATUS=up", "STOPPING=1"])
    }

    /// The shipped unit, with ExecStart pointed at this build, passes `systemd-analyze verify`
    /// without a warning, and keeps its hardening.
    @Test func theShippedUnitVerifiesAndIsHardened() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let unit = try String(
            contentsOfFile: "\(repositoryRoot)/packaging/systemd/graph-collector.service", encoding: .utf8)
        for line in [
            "Type=notify", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID", "StateDirectory=graph-collector",
            "User=graph-collector", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n",
            "RestartPreventExitStatus=2",
        ] {
            #expect(unit.contains(line), "\(line)")
        }
        let local = try dir.write(
            "graph-collector.service",
            unit.replacingOccurrences(of: "/usr/bin/graph-collector", with: CollectorProcess.executable))
        let verify = try await CollectorProcess.runTool(
            "/usr/bin/env", ["systemd-analyze", "verify", "--man=no", local])
        #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify.stderr)")
    }
}
