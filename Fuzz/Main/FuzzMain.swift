import FuzzHarnesses

#if canImport(Glibc)
    import Glibc
#endif

// graph-collector-fuzz: one binary for every fuzz target, chosen by FUZZ_TARGET.
//
// Built with libFuzzer (`make fuzz`, `scripts/fuzz.sh`: -sanitize=address,fuzzer -DFUZZING),
// libFuzzer supplies main and calls LLVMFuzzerTestOneInput with each input. Built normally, it
// is a replayer: `graph-collector-fuzz TARGET FILE...` runs the target over the files (a crash
// found by the fuzzer, say) and `graph-collector-fuzz --list` names the targets.

nonisolated(unsafe) var selected: FuzzHarness?

func fail(_ message: String, status: Int32) -> Never {
    let line = Array("graph-collector-fuzz: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(status)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if selected == nil {
        let name = getenv("FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let harness = FuzzHarness.named(name) else {
            fail("set FUZZ_TARGET to one of: \(FuzzHarness.all.map(\.name).joined(separator: ", "))", status: 2)
        }
        selected = harness
    }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected!.run(bytes)
    return 0
}

#if !FUZZING
    @main
    struct Replayer {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            if arguments.first == "--list" || arguments.isEmpty {
                for h in FuzzHarness.all { print("\(h.name)\t\(h.summary)") }
                exit(arguments.isEmpty ? 2 : 0)
            }
            guard let harness = FuzzHarness.named(arguments[0]) else {
                fail("no target '\(arguments[0])' (--list names them)", status: 2)
            }
            for path in arguments.dropFirst() {
                guard let bytes = readAll(path) else {
                    fail("cannot read \(path)", status: 1)
                }
                harness.run(bytes)
            }
            print("\(harness.name): \(arguments.count - 1) input(s) replayed, no finding")
        }

        static func readAll(_ path: String) -> [UInt8]? {
            guard let file = fopen(path, "rb") else { return nil }
            defer { fclose(file) }
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = fread(&buffer, 1, buffer.count, file)
                if n <= 0 { break }
                out.append(contentsOf: buffer[0..<n])
            }
            return out
        }
    }
#endif
