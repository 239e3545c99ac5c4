import CSVReportSink
// A graph-collector with every built-in plugin plus the csv-report sink:
//   swift run custom-collector run --config collector.yaml
import CollectorCore
import CollectorRuntime

var registry = PluginRegistry.builtins()
registry.register(sink: CSVReportSink.Plugin.self)
await CollectorMain.main(registry: registry)
