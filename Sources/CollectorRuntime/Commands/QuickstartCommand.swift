import ArgumentParser
import CollectorConfig
import CollectorCore

/// `graph-collector quickstart`: the demo, on purpose rather than by default.
struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Run the built-in quickstart: the Graph simulator on loopback, collected into ./graph-collector-out.",
        discussion:
            "The same collection as Examples/quickstart/collector.yaml, into files in the current directory "
            + "(state in ./graph-collector-state). It needs no configuration and touches nothing else."
    )

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let name = "(built-in quickstart)"
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigLoader.load(
                text: BuiltinQuickstart.yaml, name: name, directory: ".", registry: CollectorMain.registry)
        } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        try await RunCommand.run(loaded, name: name, logging: logging)
    }
}
