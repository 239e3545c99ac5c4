import CollectorConfig
import CollectorCore
import CollectorTesting
import Foundation
import GraphSecuritySource
import Testing

@testable import CollectorRuntime

/// `tenants_directory:`: an MSSP's tenants, a small YAML file each, beside or instead of the list.
@Suite struct TenantsDirectoryTests {
    func source(_ extra: String) -> String {
        """
        sources:
          - type: graph-security
            name: mssp
        \(extra)
        sinks: [{type: json-file, directory: out}]
        """
    }

    func tenantFile(_ id: String, secretFile: String? = nil) -> String {
        "tenant_id: \(id)\nclient_id: app-\(id)\n"
            + (secretFile.map { "client_secret_file: \($0)\n" } ?? "client_secret: s3cret-\(id)\n")
    }

    @Test func tenantsComeFromTheListAndTheFolderWithSecretsBesideTheirFiles() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/tenants", withIntermediateDirectories: true)
        try dir.write("tenants/b-contoso.yaml", tenantFile("contoso", secretFile: "contoso.secret"))
        try dir.write("tenants/contoso.secret", "from-the-tenant-folder\n")
        try dir.write("tenants/a-fabrikam.yml", tenantFile("fabrikam"))
        try dir.write("tenants/notes.txt", "not a tenant")
        try dir.write("tenants/.hidden.yaml", "tenant_id: [broken")
        let yaml = """
            tenants: [{tenant_id: listed, client_id: app, client_secret: x}]
            tenants_directory: \(dir.path)/tenants
            """
        let configuration = try PluginConfigurationDecoder.decode(
            GraphSecurityCollector.Configuration.self, yaml: yaml, file: dir.path + "/main.yaml")
        #expect(configuration.tenants.map(\.tenantId) == ["listed", "fabrikam", "contoso"])
        #expect(configuration.tenants[2].clientSecret?.reveal() == "from-the-tenant-folder")
        let only = try PluginConfigurationDecoder.decode(
            GraphSecurityCollector.Configuration.self, yaml: "tenants_directory: \(dir.path)/tenants")
        #expect(only.tenants.count == 2)
    }

    @Test func aMistakeInATenantFileNamesThatFileAndLine() throws {
        // problems() writes main.yaml and these files into one folder.
        let located = try problems(
            source("    tenants_directory: t"),
            files: [
                "t/good.yaml": tenantFile("good"),
                "t/typo.yaml": "tenant_id: typo\nclient_id: app\nclient_secret: x\nendpoint: alerts_v2\n",
            ])
        try #require(located.count == 1, "\(located)")
        #expect(located[0].hasPrefix("t/typo.yaml:4:1: "), "\(located)")
        #expect(located[0].contains("unknown key 'endpoint'"), "\(located)")
        let missing = try problems(
            source("    tenants_directory: t"), files: ["t/half.yaml": "tenant_id: half\nclient_id: app\n"])
        #expect(missing.count == 1 && missing[0].hasPrefix("t/half.yaml:1:1: "), "\(missing)")
        #expect(missing.first?.contains("missing required key 'client_secret'") == true, "\(missing)")
        let broken = try problems(
            source("    tenants_directory: t"), files: ["t/bad.yaml": "tenant_id: [unclosed\n"])
        #expect(broken.count == 1 && broken[0].hasPrefix("t/bad.yaml:"), "\(broken)")
    }

    @Test func aTenantNamedTwiceOrNoTenantAtAllIsRefused() throws {
        let twice = try problems(
            source("    tenants: [{tenant_id: Dup, client_id: a, client_secret: x}]\n    tenants_directory: t"),
            files: ["t/dup.yaml": tenantFile("dup")])
        #expect(twice.count == 1 && twice[0].contains("named twice (tenants[0] and tenants[1])"), "\(twice)")
        #expect(twice.first?.hasPrefix("t/dup.yaml:1:1: ") == true, "the second one's file: \(twice)")
        let empty = try problems(source("    tenants_directory: t"), files: ["t/readme.txt": "nothing here"])
        #expect(empty.count == 1 && empty[0].contains("name at least one tenant"), "\(empty)")
        let none = try problems(source("    endpoints: [alerts_v2]"))
        #expect(none.count == 1 && none[0].contains("tenants_directory"), "\(none)")
    }

    @Test func anOptionalListGivenAsAFolderIsReadNotIgnored() throws {
        let errors = try problems(
            source("    tenants: [{tenant_id: a, client_id: b, client_secret: c}]\n    endpoints_directory: e"),
            files: ["e/one.yaml": "alerts_v2\n"])
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.hasPrefix("e/one.yaml:") == true, "\(errors)")
        #expect(errors.first?.contains("expected one item as a mapping") == true, "\(errors)")
    }

    @Test func aReloadSeesATenantAddedChangedOrRemoved() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/t", withIntermediateDirectories: true)
        try dir.write("t/one.yaml", tenantFile("one"))
        let path = try dir.write("c.yaml", source("    tenants_directory: t"))
        func load() throws -> LoadedConfiguration {
            try ConfigLoader.load(file: path, registry: .builtins(), environment: [:])
        }
        let first = try load()
        #expect(ReloadPlan(running: first, reloaded: try load()).sources.unchanged == ["mssp"])
        try dir.write("t/two.yaml", tenantFile("two"))
        let added = try load()
        #expect(ReloadPlan(running: first, reloaded: added).sources.changed == ["mssp"])
        try dir.write("t/two.yaml", tenantFile("two", secretFile: "two.secret"))
        try dir.write("t/two.secret", "rotated")
        let changed = try load()
        #expect(ReloadPlan(running: added, reloaded: changed).sources.changed == ["mssp"])
        try FileManager.default.removeItem(atPath: dir.path + "/t/two.yaml")
        #expect(ReloadPlan(running: changed, reloaded: try load()).sources.changed == ["mssp"])
        #expect(!first.sources[0].fingerprint.contains("s3cret"), "the fingerprint holds checksums, not secrets")
    }
}
