import ArgumentParser

struct RootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph-collector",
        abstract: "Collects Microsoft Graph Security alerts and delivers them to SIEM sinks.",
        discussion: """
            Polls the Graph Security API (alerts_v2, incidents, legacy alerts), turns every 206 Partial \
            Content Warning item into a provider-warning event with a diagnosis, and publishes normalized \
            events to the sinks named in the configuration file.
            """,
        version: CollectorMain.version,
        subcommands: [
            RunCommand.self, QuickstartCommand.self, ValidateCommand.self, TestCommand.self, SimulateCommand.self,
            PluginsCommand.self,
            StatusCommand.self, DeadLetterCommand.self, ArchiveCommand.self, VersionCommand.self,
        ])
}
