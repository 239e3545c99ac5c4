import ArgumentParser
import CollectorConfig
import CollectorCore
import CurlTransport
import Foundation
import GraphSecuritySource
import GraphSimulator
import GzipStream
import Logging
import UnixSignals

struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "List the source and sink types this build knows, with their options.")

    func run() async throws {
        let registry = CollectorMain.registry
        print("Sources:")
        for type in registry.sourceTypes {
            let p = registry.source(type: type)!
            describe(
                type: type, summary: p.summary, options: SourceCommonSettings.keys.dropFirst().map(common) + p.options)
        }
        print("\nSinks:")
        for type in registry.sinkTypes {
            let p = registry.sink(type: type)!
            describe(type: type, summary: p.summary, options: p.options)
        }
        let common = ["name"] + SinkDeliverySettings.defaultsListing + ["dead_letters (true)", "spool_max_size (none)"]
        print("\nEvery sink also takes: " + common.joined(separator: ", ") + ".")
    }

    func common(_ key: String) -> PluginOption {
        PluginOption(key, type: "string", default: "the type", "unique name used in logs and state")
    }

    func describe(type: String, summary: String, options: [PluginOption]) {
        print("  \(type): \(summary)")
        for o in options {
            let d = o.defaultValue.map { "default \($0)" } ?? "required"
            print("      \(o.name) (\(o.type), \(d)): \(o.summary)")
        }
    }
}
