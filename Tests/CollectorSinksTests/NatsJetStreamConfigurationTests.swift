import CollectorCore
import CollectorSinks
import CollectorTesting
import NatsClient
import Testing

/// The nats-jetstream sink's pure parts: subjects, message ids and configuration errors.
@Suite struct NatsJetStreamConfigurationTests {
    @Test func aSubjectTakesEventFieldsAsSingleSafeTokens() throws {
        let template = try SubjectTemplate("graph.{event_type}.{severity}.{provider}")
        #expect(template.pattern == "graph.*.*.*")
        var alert = SampleEvents.alert(3).alert!
        alert.provider = "a.b c*>"
        #expect(template.render(.alert(alert)) == "graph.alert.high.a_b_c__")
        alert.provider = nil
        #expect(template.render(.alert(alert)) == "graph.alert.high.unknown")
        #expect(template.render(SampleEvents.providerWarning()).hasPrefix("graph.provider_warning.unknown."))
        #expect(try SubjectTemplate("alerts-{tenant_id}").pattern == "*")
    }

    @Test(arguments: [
        ("graph..{event_type}", "empty token"), ("graph.>", "wildcard"), ("graph.*", "wildcard"),
        ("graph.{sevrity}", "did you mean '{severity}'"), ("graph.{event_type", "not closed"),
        ("graph events", "white space"), ("", "empty"),
    ])
    func aBadSubjectSaysWhatIsWrong(subject: String, expected: String) {
        #expect {
            _ = try SubjectTemplate(subject)
        } throws: { "\($0)".contains(expected) }
    }

    @Test func streamFiltersCoverWhatTheyShould() {
        #expect(NatsSubject.filter("graph.>", covers: "graph.*.*"))
        #expect(NatsSubject.filter("graph.*.*", covers: "graph.*.*"))
        #expect(NatsSubject.filter("graph.alert.*", covers: "graph.alert.*"))
        #expect(!NatsSubject.filter("graph.alert.*", covers: "graph.*.*"), "a field may be any event type")
        #expect(!NatsSubject.filter("graph.*", covers: "graph.*.*"))
        #expect(!NatsSubject.filter("graph.>", covers: "graph"))
        #expect(NatsSubject.filter(">", covers: "a"))
        #expect(!NatsSubject.filter("other.>", covers: "graph.*"))
    }

    @Test func aMessageIDIsStableAndANewVersionOfAnAlertIsANewMessage() {
        let event = SampleEvents.alert(7)
        let id = NatsJetStreamSink.messageID(for: event, format: .json)
        #expect(id == "json:alert:tenant-a:alert-7@\(event.alert!.lastUpdatedAt!.iso8601(fractionDigits: 9))")
        #expect(NatsJetStreamSink.messageID(for: event, format: .json) == id)
        #expect(NatsJetStreamSink.messageID(for: event, format: .ocsf) != id, "another format is another message")
        var updated = event.alert!
        updated.lastUpdatedAt = updated.lastUpdatedAt!.adding(seconds: 1)
        #expect(NatsJetStreamSink.messageID(for: .alert(updated), format: .json) != id)
        let warning = SampleEvents.providerWarning()
        #expect(
            NatsJetStreamSink.messageID(for: warning, format: .json)
                == NatsJetStreamSink.messageID(for: warning, format: .json))
        #expect(
            NatsJetStreamSink.messageID(for: warning, format: .json)
                != NatsJetStreamSink.messageID(for: SampleEvents.providerWarning(status: 503), format: .json))
    }

    @Test func defaultsAreSane() throws {
        let c = try natsConfig("servers: [\"nats://127.0.0.1:4222\"]\nsubject: graph.{event_type}")
        #expect(c.formats.name == .json && c.maxPending == 1024 && c.ackTimeout.seconds == 10)
        #expect(c.stream == nil && !c.useTLS && (c.tls ?? NatsJetStreamSink.TLS()).verify)
        let s = try natsConfig(
            "servers: [\"tls://a:4222\"]\nsubject: g.x\nstream: {name: S, subjects: [g.x], max_age: 30d}")
        #expect(s.useTLS && s.stream?.duplicateWindow.seconds == 600 && s.stream?.replicas == 1)
    }

    @Test(arguments: [
        ("servers: []\nsubject: a", "at least one server"),
        ("servers: [\"http://a:4222\"]\nsubject: a", "not a NATS server URL"),
        ("servers: [\"nats://u:secret@a:4222\"]\nsubject: a", "give them in auth:"),
        (
            "servers: [\"nats://a\"]\nsubject: graph.{event_type}\nstream: {name: S, subjects: [\"other.>\"]}",
            "not among the stream's subjects"
        ),
        (
            "servers: [\"nats://a\"]\nsubject: graph.{event_type}\nstream: {name: S, subjects: [\"graph.alert\"]}",
            "not among the stream's subjects"
        ),
        ("servers: [\"nats://a\"]\nsubject: a\nstream: {name: S.x, subjects: [a]}", "not a stream name"),
        (
            "servers: [\"nats://a\"]\nsubject: a\nstream: {name: S, subjects: [a], replicas: 7}",
            "replicas must be 1 to 5"
        ),
        (
            "servers: [\"nats://a\"]\nsubject: a\nstream: {name: S, subjects: [a], max_age: 1m}",
            "at least the duplicate_window"
        ),
        ("servers: [\"nats://a\"]\nsubject: a\nauth: {token: t, user: u, password: p}", "use one of"),
        ("servers: [\"nats://a\"]\nsubject: a\nauth: {user: u}", "go together"),
        ("servers: [\"nats://a\"]\nsubject: a\nauth: {nkey: UABC}", "go together"),
        ("servers: [\"nats://a\"]\nsubject: a\nmax_pending: 0", "max_pending"),
        ("servers: [\"nats://a\"]\nsubject: a\ntls: {client_key: k.pem}", "client_key needs client_certificate"),
        ("servers: [\"nats://a\"]\nsubject: a\nformat: leeef", "did you mean 'leef'"),
    ])
    func aBadSettingSaysWhatIsWrong(yaml: String, expected: String) {
        #expect {
            _ = try natsConfig(yaml)
        } throws: { "\($0)".contains(expected) }
    }

    @Test func secretsAreRedacted() throws {
        let c = try natsConfig("servers: [\"nats://a\"]\nsubject: a\nauth: {user: u, password: hunter2-secret}")
        #expect(!"\(c)".contains("hunter2-secret"))
        #expect(!String(reflecting: c).contains("hunter2-secret"))
    }
}
