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

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print versions of the collector and its libraries.")

    func run() async throws {
        print("graph-collector \(CollectorMain.version)")
        print(CurlLibrary.versionSummary)
        print("zlib \(zlibVersionString)")
    }
}
