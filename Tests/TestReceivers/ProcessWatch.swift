public import Foundation

#if canImport(Glibc)
    public import Glibc
#endif

/// What a child process used, read from `/proc` while it runs (its own `ru_maxrss` after exec
/// would include the parent's size at spawn): the most threads it had at once, its peak RSS and
/// its CPU time.
public struct ProcessWatch: Sendable {
    public var exitStatus: Int32 = 0
    public var maxThreads = 0
    public var peakRSS = 0
    public var cpuSeconds = 0.0
    public var wallSeconds = 0.0

    /// ``until(exit:interval:timeout:)`` on a thread of its own: the cooperative pool (two threads
    /// here, shared with every test and an in-process simulator) is never blocked by the sampling.
    public static func watching(_ pid: pid_t, interval: Double = 0.05, timeout: Double = 600) async -> ProcessWatch {
        await onOwnThread { until(exit: pid, interval: interval, timeout: timeout) }
    }

    /// Runs blocking `work` on a new thread and awaits its result.
    public static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }

    /// Samples `pid` every `interval` until it exits (or `timeout` passes: then it is killed);
    /// blocking, so call it through ``watching(_:interval:timeout:)``.
    public static func until(exit pid: pid_t, interval: Double = 0.05, timeout: Double = 600) -> ProcessWatch {
        var watch = ProcessWatch()
        let start = Date()
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if let fields = statusFields(pid) {
                watch.maxThreads = max(watch.maxThreads, fields["Threads"] ?? 0)
                watch.peakRSS = max(watch.peakRSS, (fields["VmHWM"] ?? 0) * 1024)
            }
            if let cpu = cpuTime(pid) { watch.cpuSeconds = cpu }
            if Date().timeIntervalSince(start) > timeout {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                watch.exitStatus = -1
                watch.wallSeconds = Date().timeIntervalSince(start)
                return watch
            }
            usleep(UInt32(interval * 1_000_000))
        }
        watch.wallSeconds = Date().timeIntervalSince(start)
        watch.exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return watch
    }

    /// The numeric fields of `/proc/PID/status` (`Threads`, `VmHWM` in KiB, …).
    public static func statusFields(_ pid: pid_t) -> [String: Int]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).first
                .flatMap {
                    Int($0)
                }
            if let value { fields[String(line[..<colon])] = value }
        }
        return fields
    }

    /// utime + stime of a process, in seconds.
    public static func cpuTime(_ pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After ")": state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
