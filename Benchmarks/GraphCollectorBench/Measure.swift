import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Output goes straight to the file descriptor, line by line, even when piped.
func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

/// One measured run: wall time, CPU time of this process, and its peak RSS during the run.
struct Measurement {
    var wall: Double
    var cpu: Double
    var peakRSS: Int

    /// Runs `body`, resetting the peak-RSS mark first (Linux `clear_refs` 5).
    static func of(_ body: () async throws -> Void) async rethrows -> Measurement {
        resetPeakRSS()
        let cpu0 = cpuSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        let wall = clock.now - start
        return Measurement(wall: wall.seconds, cpu: cpuSeconds() - cpu0, peakRSS: peakRSS())
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func resetPeakRSS() {
        if let fd = Optional(open("/proc/self/clear_refs", O_WRONLY)), fd >= 0 {
            _ = write(fd, "5", 1)
            close(fd)
        }
    }

    /// VmHWM of this process in bytes.
    static func peakRSS() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// A row of the report: what was measured, and how fast.
struct Row {
    var name: String
    var events: Int
    var bytes: Int
    var wall: Double
    var cpu: Double?
    var peakRSS: Int?
    var note: String = ""

    var eventsPerSecond: Double { Double(events) / wall }
    var mibPerSecond: Double { Double(bytes) / 1_048_576 / wall }
    /// Events per CPU-second: the throughput of one core.
    var eventsPerCoreSecond: Double? { cpu.map { Double(events) / max($0, 1e-9) } }
}

func formatted(_ v: Double, _ digits: Int = 0) -> String {
    let text = String(format: "%.\(digits)f", v)
    guard digits == 0, let n = Int(text) else { return text }
    var out = ""
    var digitsSeen = 0
    for c in String(n).reversed() {
        if digitsSeen > 0 && digitsSeen % 3 == 0 && c != "-" { out.append(",") }
        out.append(c)
        digitsSeen += 1
    }
    return String(out.reversed())
}

func printTable(_ title: String, _ rows: [Row]) {
    say("\n## \(title)\n")
    say("| measured | events | MiB | wall s | events/s | MiB/s | events/s per core | peak RSS MiB | note |")
    say("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows {
        say(
            "| \(r.name) | \(formatted(Double(r.events))) | \(formatted(Double(r.bytes) / 1_048_576, 1)) | "
                + "\(formatted(r.wall, 2)) | "
                + "\(formatted(r.eventsPerSecond)) | \(formatted(r.mibPerSecond, 1)) | \(r.eventsPerCoreSecond.map { formatted($0) } ?? "-") | "
                + "\(r.peakRSS.map { formatted(Double($0) / 1_048_576, 1) } ?? "-") | \(r.note) |")
    }
}

/// A loopback TCP receiver on its own thread that counts bytes and LF-terminated lines over
/// every connection it accepts, optionally keeping the bytes.
final class CountingReceiver: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var _bytes = 0
    private var _lines = 0
    private var _closed = 0
    private var _cpu = 0.0
    private var kept: [UInt8] = []
    private let keep: Bool

    init(keep: Bool = false) throws {
        self.keep = keep
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok, listen(fd, 16) == 0 else { throw BenchError("cannot listen on loopback") }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            Thread { [self] in readLoop(fd) }.start()
        }
    }

    private func readLoop(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        // BENCH_RECEIVER_STALL="at,for": this connection reads nothing for `for` seconds once it
        // is `at` seconds old (a SIEM that stops reading), to measure what the sender holds.
        let stall = ProcessInfo.processInfo.environment["BENCH_RECEIVER_STALL"]?.split(separator: ",").compactMap {
            Double($0)
        }
        let began = Date()
        var stalled = false
        while true {
            if let stall, stall.count == 2, !stalled, Date().timeIntervalSince(began) > stall[0] {
                stalled = true
                usleep(UInt32(stall[1] * 1e6))
            }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            var lines = 0
            buffer.withUnsafeBytes { raw in
                var at = raw.baseAddress!
                let end = raw.baseAddress! + n
                while at < end, let hit = memchr(at, 0x0A, end - at) {
                    lines += 1
                    at = UnsafeRawPointer(hit) + 1
                }
            }
            lock.lock()
            _bytes += n
            _lines += lines
            if keep { kept.append(contentsOf: buffer[0..<n]) }
            lock.unlock()
        }
        close(fd)
        // This thread's CPU time, so a row can leave the receiver's work out of the sender's.
        var usage = rusage()
        getrusage(1, &usage)  // RUSAGE_THREAD (Linux), which Glibc does not import
        let cpu =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
        lock.lock()
        _closed += 1
        _cpu += cpu
        lock.unlock()
    }

    /// CPU seconds the reading threads used, counted when their connections closed.
    var cpuSeconds: Double {
        lock.lock()
        defer { lock.unlock() }
        return _cpu
    }

    var bytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return _bytes
    }
    var lines: Int {
        lock.lock()
        defer { lock.unlock() }
        return _lines
    }
    var closedConnections: Int {
        lock.lock()
        defer { lock.unlock() }
        return _closed
    }
    func takeKept() -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        let k = kept
        kept = []
        return k
    }
    func reset() {
        lock.lock()
        _bytes = 0
        _lines = 0
        _closed = 0
        _cpu = 0
        kept = []
        lock.unlock()
    }

    /// Waits until `condition` holds (checked every millisecond) or `timeout` passes.
    func wait(timeout: Double = 120, _ condition: (CountingReceiver) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(self) { return true }
            usleep(1000)
        }
        return condition(self)
    }
}

/// Writes all of `bytes` to a fresh TCP connection to 127.0.0.1:`port`, then closes it.
func rawSend(_ bytes: [UInt8], port: Int) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected else { throw BenchError("cannot connect to 127.0.0.1:\(port)") }
    var offset = 0
    try bytes.withUnsafeBytes { raw in
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            guard n > 0 else { throw BenchError("write failed: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
