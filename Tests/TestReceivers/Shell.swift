public import Foundation

/// Runs a `/bin/sh` script, returning its exit status and its combined output (for harnesses:
/// mounts, `gzip`, `python3`).
@discardableResult
public func shell(_ script: String) -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", script + " 2>&1"]
    let pipe = Pipe()
    p.standardOutput = pipe
    do { try p.run() } catch { return (127, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// ``shell(_:)`` on a thread of its own, so a slow or stuck program never holds one of the
/// cooperative pool's two threads (every other test's tasks run there).
public func shellOffPool(_ script: String) async -> (status: Int32, output: String) {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: shell(script)) }
    }
}
