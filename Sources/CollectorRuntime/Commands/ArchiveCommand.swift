import ArgumentParser
import CollectorCore
import CollectorSinks
import Foundation

/// `graph-collector archive verify|cat`: checks and reads what the gzip-archive sink wrote.
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Verify or read a gzip-archive sink's directory.",
        subcommands: [Verify.self, Cat.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check every archive file: gzip integrity, every line an event, count, time range and SHA-256 "
                + "against its manifest.",
            discussion: "Prints one line per file; exits 0 when all are good, 1 when any has a problem.")

        @Argument(help: "The archive directory (the sink's `directory`).")
        var directory: String

        func run() async throws {
            guard FileManager.default.fileExists(atPath: directory) else {
                throw ValidationError("no such directory: \(directory)")
            }
            let reports = ArchiveReader.verify(directory: directory)
            for report in reports { print(report) }
            let bad = reports.filter { !$0.isGood }.count
            let events = reports.reduce(0) { $0 + $1.events }
            print("\(reports.count) file(s), \(events) event(s), \(bad) with problems")
            if bad > 0 { throw ExitCode(1) }
        }
    }

    struct Cat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the archived events (NDJSON) to standard output, optionally only those in a time range.",
            discussion:
                "Times are RFC 3339 (2026-11-23T14:00:00Z). Files whose manifest is outside the range are not "
                + "decompressed."
        )

        @Argument(help: "The archive directory (the sink's `directory`).")
        var directory: String

        @Option(help: "Only events at or after this time.")
        var from: String?

        @Option(help: "Only events at or before this time.")
        var to: String?

        func run() async throws {
            func time(_ text: String?, _ name: String) throws -> Timestamp? {
                guard let text else { return nil }
                guard let t = Timestamp(iso8601: text) else {
                    throw ValidationError("--\(name) '\(text)' is not an RFC 3339 time like 2026-11-23T14:00:00Z")
                }
                return t
            }
            let from = try time(self.from, "from")
            let to = try time(self.to, "to")
            let out = FileHandle.standardOutput
            var buffer: [UInt8] = []
            let problems = try ArchiveReader.cat(directory: directory, from: from, to: to) { line in
                buffer += line
                buffer.append(0x0A)
                if buffer.count > 1 << 16 {
                    out.write(Data(buffer))
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            out.write(Data(buffer))
            for problem in problems {
                FileHandle.standardError.write(Data("graph-collector archive cat: \(problem)\n".utf8))
            }
            if !problems.isEmpty { throw ExitCode(1) }
        }
    }
}
