import CollectorCore
import CollectorSystem
import GraphSimulator
import Logging
import ServiceLifecycle

extension CollectorApplication {
    /// The start of a run, step by step, remembering what it opened so that a failed start
    /// closes exactly that (``undo()``): one cleanup scope for every step.
    struct Startup {
        let configuration: LoadedConfiguration
        let logger: Logger
        /// Services started for this run, by name → URL (the simulator's).
        private(set) var serviceURLs: [String: String] = [:]
        private(set) var simulator: GraphSimulator?
        private(set) var sinks: [any Sink] = []
        private(set) var metrics: MetricsServer?

        init(configuration: LoadedConfiguration, logger: Logger) {
            self.configuration = configuration
            self.logger = logger
        }

        var stateDirectory: String { configuration.stateDirectory }

        /// Closes what the start opened, after a failure.
        func undo() async {
            for sink in sinks { try? await sink.close() }
            await metrics?.stop()
            await simulator?.stop()
        }

        mutating func startSimulator() async throws {
            guard let settings = configuration.settings.simulator else { return }
            simulator = try await settings.start(services: &serviceURLs)
            logger.info(
                "Graph simulator listening",
                metadata: [
                    "url": "\(serviceURLs["graph-simulator"] ?? "")",
                    "tenant_id": "\(settings.configuration.tenantId)",
                    "client_id": "\(settings.configuration.clientId)",
                ])
        }

        /// Opens every sink with its spool and dead letters, in configuration order.
        mutating func openPipeline() async throws -> EventPipeline {
            var slots: [EventPipeline.SinkSlot] = []
            for entry in configuration.sinks {
                let s = entry.settings
                var sinkLogger = logger
                sinkLogger[metadataKey: "sink"] = "\(s.name)"
                let context = SinkContext(
                    name: s.name, logger: sinkLogger, stateDirectory: "\(stateDirectory)/sinks/\(s.name)",
                    configurationDirectory: configuration.directory)
                do {
                    let spool = try await openSpool(for: s)
                    let sink = try await entry.make(context)
                    sinks.append(sink)
                    let deadLetters =
                        s.deadLetters
                        ? DeadLetterStore(path: CollectorStatus.deadLetterPath(state: stateDirectory, sink: s.name))
                        : nil
                    slots.append(
                        EventPipeline.SinkSlot(
                            name: s.name, sink: sink, settings: s.delivery, deadLetters: deadLetters, spool: spool))
                } catch {
                    throw StartupError(message: "sink '\(s.name)' (\(s.type), \(entry.file)) could not start: \(error)")
                }
            }
            let drain = configuration.settings.pipeline.drainTimeout.duration
            return EventPipeline(sinks: slots, drainTimeout: drain, logger: logger)
        }

        private func openSpool(for s: SinkCommonSettings) async throws -> Spool? {
            guard let size = s.spoolMaxSize else { return nil }
            let spool = Spool(directory: "\(stateDirectory)/sinks/\(s.name)/spool", maxBytes: size.bytes)
            try await spool.open()
            for problem in await spool.problems {
                logger.error("spool repaired on start", metadata: ["sink": "\(s.name)", "problem": "\(problem)"])
            }
            let pending = await spool.pendingBatches
            if pending > 0 {
                logger.info(
                    "spool holds batches from an earlier run; they are delivered first",
                    metadata: ["sink": "\(s.name)", "batches": "\(pending)"])
            }
            return spool
        }

        struct Sources {
            var names: [String]
            var boards: [SourceStatusBoard]
            var service: SourcesService
        }

        func makeSources(publisher pipeline: EventPipeline) async throws -> Sources {
            var sources: [(String, any Source)] = []
            var boards: [SourceStatusBoard] = []
            var stops: [StopRequest] = []
            for entry in configuration.sources {
                let s = entry.settings
                var sourceLogger = logger
                sourceLogger[metadataKey: "source"] = "\(s.name)"
                let context = SourceContext(
                    name: s.name, logger: sourceLogger, stateDirectory: "\(stateDirectory)/sources/\(s.name)",
                    configurationDirectory: configuration.directory, services: serviceURLs)
                boards.append(context.status)
                stops.append(context.stop)
                do {
                    sources.append((s.name, try await entry.make(context)))
                } catch {
                    throw StartupError(
                        message: "source '\(s.name)' (\(s.type), \(entry.file)) could not start: \(error)")
                }
            }
            let service = SourcesService(
                sources: sources, stops: stops, grace: configuration.settings.pipeline.drainTimeout.duration,
                publisher: pipeline, logger: logger, closePipeline: { await pipeline.shutdown() })
            return Sources(names: sources.map(\.0), boards: boards, service: service)
        }

        mutating func startMetrics(pipeline: EventPipeline, boards: [SourceStatusBoard]) async throws {
            guard let (host, port) = configuration.settings.metricsListen else { return }
            let started: MetricsServer
            do {
                started = try await MetricsServer.start(
                    host: host, port: port, pipeline: pipeline, sources: boards, startedAt: .now())
            } catch {
                throw StartupError(message: "metrics: cannot listen on \(host):\(port): \(error)")
            }
            metrics = started
            let shownHost = host.contains(":") ? "[\(host)]" : host
            logger.info("metrics endpoint listening", metadata: ["url": "http://\(shownHost):\(started.port)/metrics"])
            try? AtomicFile.write(Array("\(started.port)\n".utf8), to: "\(stateDirectory)/metrics.port")
        }

        /// Every part of the run as one service group. Graceful shutdown goes in reverse order:
        /// systemd hears STOPPING first, sources stop, then the pipeline drains, then the
        /// simulator, the metrics endpoint, the status file (which shows the drain until the end),
        /// and SIGHUP handling.
        func serviceGroup(
            pipeline: EventPipeline, sources: SourcesService, status: StatusFileService, readiness: ReadinessService,
            reload: ReloadService
        ) -> ServiceGroup {
            // Reload first, so it stops last: a SIGHUP during the drain still reopens files.
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                .init(service: reload), .init(service: status),
            ]
            if let metrics { services.append(.init(service: metrics)) }
            if let simulator { services.append(.init(service: SimulatorService(simulator: simulator))) }
            services.append(.init(service: pipeline))
            services.append(
                .init(
                    service: sources, successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup))
            services.append(.init(service: readiness))
            return ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        }
    }
}
