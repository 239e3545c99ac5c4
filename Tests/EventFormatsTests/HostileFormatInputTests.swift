import CollectorCore
import CollectorTesting
import EventFormats
import Testing

/// Values that once broke a format (found in review): each event still encodes, and the
/// documents still pass OCSF's schema and the ECS checker.
@Suite struct HostileFormatInputTests {
    static var events: [Event] {
        let time = Timestamp(nanosecondsSinceEpoch: 1_763_900_000_000_000_000)
        let warning = ProviderWarning(
            vendor: "Microsoft", provider: "IPC", httpStatus: 504, latencyMilliseconds: Int.max, query: "/x",
            observedAt: time, diagnosis: "timeout", isPersistent: false, rawItem: "199 - \"Microsoft/IPC/504/…\"")
        let evidence = Evidence(
            hosts: [
                .init(
                    name: "my_host", ipAddresses: ["ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "::ffff:1.2.3.4"])
            ],
            users: [.init(domain: "CONTOSO")],
            files: [.init(name: "x", sha1: nil, sha256: String(repeating: "f", count: 128))],
            processes: [.init(commandLine: "cmd.exe /c whoami")])
        let raw: JSONValue = .object([("blob", .string(String(repeating: "x", count: 70_000))), ("nothing", .null)])
        let alert = SecurityAlert(
            kind: .alertV2, id: String(repeating: "i", count: 60), title: "", severity: .high, status: "weird",
            category: "", createdAt: time, lastUpdatedAt: time, evidence: evidence, raw: RawJSON(raw))
        return [.providerWarning(warning), .alert(alert)]
    }

    @Test func oddValuesStayValidOCSF() async throws {
        var fields = JSONFieldMap()
        fields.added = [.init(path: "unmapped.nothing", pointer: JSONPointer("/nothing")!)]
        let encoder = OCSFEncoder(format: OCSFFormat(version: .v1Dot3, fields: fields, includeRaw: true))
        let lines = FormatSamples.lines(Self.events, encoder)
        let result = try await FormatSamples.validate("validate_ocsf.py", ["1.3.0"], lines: lines)
        #expect(result.status == 0, "\(result.stdout.prefix(2000)) \(result.stderr.prefix(1000))")
    }

    @Test func oddValuesStayValidECSAndCEF() async throws {
        let ecs = ECSEncoder()
        let lines = FormatSamples.lines(Self.events, ecs)
        let fixture = FormatSamples.fixtures + "/ecs/ecs-8.17.0-fields.json"
        let result = try await FormatSamples.validate(
            "ecs_check.py", [fixture, "{file}", "microsoft.graph"], lines: lines)
        #expect(result.status == 0, "\(result.stdout.prefix(2000))")
        for event in Self.events {
            var out: [UInt8] = []
            CEFEncoder().encode(event, into: &out)
            let parsed = try StrictCEFParser.parse(String(decoding: out, as: UTF8.self))
            #expect(parsed.pairs["src"] == nil, "no IPv6 or mapped address in src: \(parsed.pairs)")
            if case .alert = event { #expect(parsed.pairs["flexString2"] == String(repeating: "i", count: 60)) }
        }
    }

    @Test func reservedAndDuplicateCEFKeysAreRefused() {
        let format = CEFFormat(
            fieldKeys: [.incidentId: "cn3"],
            rawFields: [("statusLabel", JSONPointer("/a")!), ("flexString2", JSONPointer("/b")!)])
        let problems = format.problems()
        #expect(problems.filter { $0.contains("is reserved") }.count == 3, "\(problems)")
    }
}
