import ArgumentParser
public import CollectorCore
import CurlTransport
import Foundation
import GraphSecuritySource
import GraphSimulator
import GzipStream
import Logging
import UnixSignals

/// The `graph-collector` command line. A custom build of the collector (built-in plugins plus
/// your own) is a few lines:
/// ```swift
/// import CollectorRuntime
/// var registry = PluginRegistry.builtins()
/// registry.register(sink: MySink.Plugin.self)
/// await CollectorMain.main(registry: registry)
/// ```
public enum CollectorMain {
    public static let version = CollectorVersion.current

    @TaskLocal static var registry = PluginRegistry.builtins()

    /// Parses the arguments (default: the process's) and runs the command; exits the process
    /// with the command's status.
    public static func main(registry: PluginRegistry = .builtins(), arguments: [String]? = nil) async {
        // A receiver that resets a connection must fail one write, not kill the process (some
        // TLS stacks write with plain write(2), which raises SIGPIPE).
        signal(SIGPIPE, SIG_IGN)
        await $registry.withValue(registry) {
            await RootCommand.main(arguments)
        }
    }
}
