import CollectorTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The sd_notify protocol, heard the way systemd hears it: datagrams on the NOTIFY_SOCKET.
@Suite struct SystemdNotifyTests {
    /// A datagram socket bound at `path`, read every 20 ms as systemd would (an unread socket
    /// fills, and the collector's non-blocking sends are then dropped).
    final class NotifySocket: @unchecked Sendable {
        let fd: Int32
        let path: String
        private let lock = NSLock()
        private var messages: [String] = []
        private var reader: Task<Void, Never>?

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() { raw[i] = b }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard fd >= 0, bound == 0 else { throw CocoaError(.fileWriteUnknown) }
            reader = Task.detached { [self] in
                while !Task.isCancelled {
                    drain()
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
        }

        private func drain() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                guard n > 0 else { return }
                let message = String(decoding: buffer[0..<n], as: UTF8.self)
                lock.withLock { messages.append(message) }
            }
        }

        /// Everything received so far (the rest of the socket drained first).
        func received() -> [String] {
            drain()
            return lock.withLock { messages }
        }

        func stop() {
            reader?.cancel()
            close(fd)
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
        #expect(result.status == 0, "\(result.stderr)")
        let messages = listener.received()
        listener.stop()
        let ready = try #require(messages.firstIndex { $0.hasPrefix("READY=1\n") }, "\(messages)")
        let stopping = try #require(messages.firstIndex { $0.hasPrefix("STOPPING=1\n") }, "\(messages)")
        #expect(ready < stopping)
        #expect(messages[ready].contains("STATUS=collecting: 1 source(s) into 1 sink(s)"))
        #expect(messages.contains { $0.hasPrefix("WATCHDOG=1\nSTATUS=collecting: ") }, "\(messages)")
    }

    /// The shipped unit, with ExecStart pointed at this build, passes `systemd-analyze verify`
    /// without a warning, and keeps its hardening.
    @Test func theShippedUnitVerifiesAndIsHardened() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let unit = try String(
            contentsOfFile: "\(repositoryRoot)/packaging/systemd/graph-collector.service", encoding: .utf8)
        for line in [
            "Type=notify", "WatchdogSec=", "StateDirectory=graph-collector", "User=graph-collector",
            "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n",
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

    @Test func withoutNotifySocketNothingIsSent() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let listener = try NotifySocket(path: dir.file("notify"))
        let config = try dir.write(
            "c.yaml",
            """
            sources: [{type: synthetic, count: 10}]
            sinks: [{type: json-file, directory: out}]
            """)
        let result = try await CollectorProcess.run(["run", "--config", config], environment: ["NOTIFY_SOCKET": ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(listener.received().isEmpty)
        listener.stop()
    }
}
