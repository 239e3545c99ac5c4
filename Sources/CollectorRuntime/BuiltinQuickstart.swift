// The configuration `graph-collector quickstart` runs: Examples/quickstart/collector.yaml
// with output and state under the current directory. A test keeps the two in step.
enum BuiltinQuickstart {
    static let yaml = #"""
        # Quickstart: the built-in Graph simulator on loopback, collected over real HTTP into NDJSON files.
        #   make run     (or: graph-collector run --config Examples/quickstart/collector.yaml)
        # The simulator serves alerts_v2, incidents and legacy v1 alerts, and injects what real tenants
        # do: one provider times out (504) twice and then recovers, another is not licensed (403) and
        # never recovers, and every 25th request is throttled (429 with Retry-After).
        # Output: quickstart-out/ at the top of the repository. Relative paths are relative to this file.

        state_directory: graph-collector-state

        logging:
          level: info
          format: text

        simulator:
          port: 0                  # any free port on 127.0.0.1
          alerts_v2: 3000
          alerts_v1: 600
          incidents: 120
          history: 3d
          failing_providers:
            - {provider: IPC, status: 504, failures: 2}
            - {provider: MCAS, status: 403}
          throttle_every: 25

        sources:
          - type: graph-security
            name: graph
            cloud: simulator
            tenants:
              - tenant_id: 5f1c7d3e-2a4b-4c6d-8e9f-0a1b2c3d4e5f
                client_id: simulator-client
                client_secret: simulator-secret
            # alerts_v2 and incidents are what to collect; legacy v1 'alerts' (retired by Microsoft on
            # 2026-10-15, hence a warning at start) is here to show the 206 Partial Content handling.
            endpoints: [alerts_v2, incidents, alerts]
            poll_interval: 1s
            ingestion_lag: 0s
            look_back: 4d
            provider_give_up_after: 3s     # a real deployment keeps trying for 24h
            stop_when_caught_up: true      # a real deployment polls forever
            retry: {initial_delay: 200ms, max_delay: 2s}

        sinks:
          # Every event, one file per event type per day.
          - type: json-file
            name: all-events
            directory: graph-collector-out
            path: "%Y-%m-%d/{event_type}.ndjson"
          # The same alerts split by severity, as an example of path templates.
          - type: json-file
            name: by-severity
            directory: graph-collector-out
            path: "by-severity/{severity}.ndjson"
            fsync: interval
        """#
}
