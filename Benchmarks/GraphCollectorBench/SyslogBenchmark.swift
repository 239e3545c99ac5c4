import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import TestReceivers

#if canImport(Glibc)
    import Glibc
#endif

/// 2. LEEF encoding + syslog over TCP (octet-counted) to a loopback receiver that counts bytes,
/// against writing the same bytes to a socket (the limit) and against rsyslog forwarding the
/// same pre-formatted messages (imptcp → omfwd) on this machine.
enum SyslogBenchmark {
    static func run(events: Int) async throws {
        let pool = try EventPool.make()
        let batches = EventPool.batches(pool, total: events, size: 500)
        // An untimed first pass keeps what goes on the wire, for the two references below.
        let keeper = try CountingReceiver(keep: true)
        _ = try await send(batches, port: keeper.port, to: keeper)
        let wire = keeper.takeKept()
        // Timed passes, LEEF and CEF (the same events, `format: cef`, for the issue's "CEF
        // within 10 % of LEEF") in the order CEF, LEEF, LEEF, CEF so that neither format gains
        // from its place; each row is the mean of its two passes. A receiver that only counts;
        // its thread's CPU is taken out of the row.
        var passes: [String: (wall: Double, cpu: Double, peakRSS: Int, bytes: Int)] = [:]
        for format in ["cef", "leef", "leef", "cef"] {
            let receiver = try CountingReceiver()
            let pass = try await send(batches, port: receiver.port, to: receiver, format: format)
            if format == "leef" && receiver.bytes != wire.count {
                throw BenchError("a timed pass sent \(receiver.bytes) bytes, the first \(wire.count)")
            }
            let before = passes[format] ?? (0, 0, 0, 0)
            passes[format] = (
                before.wall + pass.wall / 2, before.cpu + (pass.cpu - receiver.cpuSeconds) / 2,
                max(before.peakRSS, pass.peakRSS), receiver.bytes
            )
        }
        var rows = [("leef", "LEEF 2.0"), ("cef", "CEF:0")].map { format, title in
            let pass = passes[format]!
            return Row(
                name: "graph-collector syslog sink: \(title) + RFC 5424 header + TCP", events: events,
                bytes: pass.bytes, wall: pass.wall, cpu: pass.cpu, peakRSS: pass.peakRSS,
                note: "\(pass.bytes / max(events, 1)) B/message on the wire; mean of 2 passes")
        }

        // The limit: the same bytes written straight to a socket.
        let receiver = try CountingReceiver()
        let raw = try await Measurement.of {
            try rawSend(wire, port: receiver.port)
            guard receiver.wait({ $0.closedConnections >= 1 }) else { throw BenchError("raw send: no close") }
        }
        guard receiver.bytes == wire.count else {
            throw BenchError("raw send: \(receiver.bytes) of \(wire.count) bytes arrived")
        }
        rows.append(
            Row(
                name: "raw socket write of the same bytes (the limit)", events: events, bytes: wire.count,
                wall: raw.wall, cpu: raw.cpu - receiver.cpuSeconds,
                peakRSS: raw.peakRSS, note: "reference"))

        // A peer: rsyslog receiving those messages on imptcp and forwarding them with omfwd.
        if let row = try rsyslogForwarding(wire, events: events) { rows.append(row) }
        printTable(
            "2. LEEF + syslog over TCP, octet-counted, to a loopback receiver (\(formatted(Double(events))) events)",
            rows)
    }

    /// Sends the batches through a fresh syslog sink to the receiver; measured until it closes.
    static func send(
        _ batches: [[Event]], port: Int, to receiver: CountingReceiver, format: String = "leef"
    ) async throws -> Measurement {
        let configuration = try CollectorTestingConfig.decode(
            SyslogSink.Configuration.self,
            yaml: """
                transport: tcp
                framing: octet-counting
                format: \(format)
                targets: ["127.0.0.1:\(port)"]
                """)
        let sink = try await SyslogSink.Plugin.makeSink(configuration: configuration, context: benchContext("syslog"))
        return try await Measurement.of {
            for batch in batches { try await sink.write(batch) }
            try await sink.close()
            guard receiver.wait({ $0.closedConnections >= 1 }) else {
                throw BenchError("the receiver never saw the connection close")
            }
        }
    }

    static func rsyslogForwarding(_ wire: [UInt8], events: Int) throws -> Row? {
        guard FileManager.default.isExecutableFile(atPath: RsyslogReceiver.executable) else {
            say("rsyslogd not found; skipping the rsyslog comparison (install rsyslog)")
            return nil
        }
        let directory = TemporaryDirectory(prefix: "bench-rsyslog")
        defer { directory.remove() }
        let forwarded = try CountingReceiver()
        let input = try RsyslogReceiver.freePort(udp: false)
        let conf = """
            global(workDirectory="\(directory.path)" maxMessageSize="256k")
            module(load="imptcp")
            ruleset(name="forward" queue.type="LinkedList" queue.size="1000000") {
              action(type="omfwd" target="127.0.0.1" port="\(forwarded.port)" protocol="tcp" template="RSYSLOG_SyslogProtocol23Format")
            }
            input(type="imptcp" address="127.0.0.1" port="\(input)" ruleset="forward")
            """
        try conf.write(toFile: directory.file("rsyslog.conf"), atomically: true, encoding: .utf8)
        let pid = try RsyslogReceiver.spawn(
            RsyslogReceiver.executable, ["-n", "-f", directory.file("rsyslog.conf"), "-i", directory.file("pid")],
            log: directory.file("rsyslogd.log"))
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        let deadline = Date().addingTimeInterval(10)
        while !RsyslogReceiver.canConnect(port: input) && Date() < deadline { usleep(20_000) }
        let cpu0 = processCPU(pid)
        let clock = ContinuousClock()
        let start = clock.now
        try rawSend(wire, port: input)
        guard forwarded.wait(timeout: 300, { $0.lines >= events }) else {
            throw BenchError(
                "rsyslog forwarded \(forwarded.lines) of \(events) messages: \((try? String(contentsOfFile: directory.file("rsyslogd.log"), encoding: .utf8)) ?? "")"
            )
        }
        let wall = (clock.now - start).seconds
        return Row(
            name: "rsyslog 8 forwarding the same messages (imptcp → omfwd TCP)", events: events, bytes: wire.count,
            wall: wall,
            cpu: processCPU(pid) - cpu0, peakRSS: processPeakRSS(pid), note: "peer; CPU and RSS are rsyslogd's")
    }

    /// utime + stime of a process, in seconds.
    static func processCPU(_ pid: pid_t) -> Double { ProcessWatch.cpuTime(pid) ?? 0 }

    static func processPeakRSS(_ pid: pid_t) -> Int? { ProcessWatch.statusFields(pid)?["VmHWM"].map { $0 * 1024 } }
}
