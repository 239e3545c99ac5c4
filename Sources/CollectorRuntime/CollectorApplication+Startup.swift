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
        /// The fleet, when the configuration has `coordination:`.
        private(set) var fleet: FleetCoordinator?

        init(configuration: LoadedConfiguration, logger: Logger) {
            self.configuration = configuration
            self.logger = logger
        }

        var stateDirectory: String { configuration.stateDirectory }

        /// Closes what the start opened, after a failure.
        func undo() async {
            for sink in sinks { try? await sink.close() }
            if let fleet {
                await fleet.store.close()
                await fleet.checkpoints.close()
            }
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

        /// How sinks and sources are built, for the start and for SIGHUP.
        var parts: RunParts {
            RunParts(
                stateDirectory: stateDirectory, configurationDirectory: configuration.directory,
                services: serviceURLs, drainTimeout: configuration.settings.pipeline.drainTimeout.duration,
                logger: logger, coordination: fleet)
        }

        /// Joins the fleet when the configuration has `coordination:` (sources then collect
        /// only the tenants this instance owns, with their checkpoints in NATS).
        mutating func joinFleet() async throws {
            guard let settings = configuration.settings.coordination else { return }
            let directory = configuration.directory
            let fleet = FleetCoordinator(
                settings: settings, resolve: { $0.hasPrefix("/") ? $0 : "\(directory)/\($0)" }, logger: logger)
            self.fleet = fleet
            try await fleet.prepare()
        }

        /// Opens every sink with its spool and dead letters, in configuration order.
        mutating func openPipeline() async throws -> EventPipeline {
            var slots: [EventPipeline.SinkSlot] = []
            let parts = parts
            for entry in configuration.sinks {
                let slot = try await parts.openSlot(entry)
                sinks.append(slot.sink)
                slots.append(slot)
            }
            let drain = configuration.settings.pipeline.drainTimeout.duration
            return EventPipeline(sinks: slots, drainTimeout: drain, logger: logger)
        }

        struct Sources {
            var running: RunningSources
            var service: SourcesService
        }

        func makeSources(publisher pipeline: EventPipeline) async throws -> Sources {
            var entries: [RunningSources.Entry] = []
            let parts = parts
            for entry in configuration.sources {
                entries.append(try await parts.makeSource(entry))
            }
            let running = RunningSources(entries)
            let service = SourcesService(
                running: running, grace: configuration.settings.pipeline.drainTimeout.duration,
                publisher: pipeline, logger: logger, closePipeline: { await pipeline.shutdown() })
            return Sources(running: running, service: service)
        }

        mutating func startMetrics(pipeline: EventPipeline, sources: RunningSources) async throws {
            guard let (host, port) = configuration.settings.metricsListen else { return }
            let started: MetricsServer
            do {
                started = try await MetricsServer.start(
                    host: host, port: port, pipeline: pipeline, sources: sources, startedAt: .now())
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
            // Before the sources, so it stops after them: they release their leases first.
            if let fleet { services.append(.init(service: fleet)) }
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
