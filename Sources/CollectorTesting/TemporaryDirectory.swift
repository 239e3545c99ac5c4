public import Foundation

/// A fresh directory under the system's temporary directory, for a test's files.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "graph-collector-test") {
        let template = NSTemporaryDirectory() + "/\(prefix)-XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "cannot create a temporary directory")
        path =
            (String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) as NSString)
            .standardizingPath
    }

    /// `path/name`.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes text to `path/name`, creating folders; returns the full path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let full = file(name)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs a program and collects its exit status and output.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum CollectorProcess {
    /// The `graph-collector` executable: `GRAPH_COLLECTOR` from the environment when set (an
    /// installed or statically linked build, as `make bench` uses), else the one built beside the
    /// running test bundle.
    public static var executable: String {
        if let chosen = ProcessInfo.processInfo.environment["GRAPH_COLLECTOR"], !chosen.isEmpty { return chosen }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug").path,
        ]
        for dir in candidates where FileManager.default.isExecutableFile(atPath: "\(dir)/graph-collector") {
            return "\(dir)/graph-collector"
        }
        return "graph-collector"
    }

    /// Starts `graph-collector` with arguments; the caller waits or signals it.
    public static func start(_ arguments: [String], environment: [String: String]? = nil, directory: String? = nil)
        throws -> (Process, Pipe, Pipe)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    /// Runs `graph-collector` to completion.
    public static func run(_ arguments: [String], environment: [String: String]? = nil, directory: String? = nil)
        async throws -> ProcessResult
    {
        let (process, out, err) = try start(arguments, environment: environment, directory: directory)
        return await finish(process, out, err)
    }

    /// Waits for a started process off the cooperative pool and reads its output.
    public static func finish(_ process: Process, _ out: Pipe, _ err: Pipe) async -> ProcessResult {
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
                let stderrData = err.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(
                    returning: ProcessResult(
                        status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                        stderr: String(decoding: stderrData, as: UTF8.self)))
            }
        }
    }

    /// Runs `graph-collector` synchronously and returns its standard output (for quick checks).
    public static func runSync(_ arguments: [String]) throws -> String {
        let (process, out, _) = try start(arguments)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs any program to completion (for `gzip -t`, `zcat`, `python3`).
    public static func runTool(_ path: String, _ arguments: [String]) async throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return await finish(process, out, err)
    }
}
