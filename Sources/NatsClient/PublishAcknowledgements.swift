import CNats
import Synchronization

/// What JetStream answered for the messages of one batch, as its acknowledgements arrive on the
/// client's own thread, keyed by `Nats-Msg-Id`. (Answers to an earlier attempt are discarded by
/// the client when the batch gives up waiting; one already being handled then may still count
/// for the next attempt of the same message, which is as true: the stream holds it.)
final class PublishAcknowledgements: Sendable {
    struct Outcome: Sendable, Equatable {
        /// Messages of the batch the stream acknowledged (stored now or already).
        var acknowledged = 0
        /// Of those, how many the stream had already (its duplicate window matched the id).
        var duplicates = 0
        /// Messages it refused or never answered.
        var failed = 0
        /// The first reason given for a failure.
        var firstError: String?
        /// A message the stream refused for what it is (JetStream 10054: larger than the
        /// stream's maximum message size): retrying will not help.
        var refused = false
    }

    private struct State {
        var waiting: Set<String> = []
        var outcome = Outcome()
    }

    private let state = Mutex(State())

    /// Starts a batch of messages with these ids.
    func begin(_ ids: Set<String>) {
        state.withLock { $0 = State(waiting: ids) }
    }

    /// The answers so far; what has no answer yet counts as failed.
    func finish() -> Outcome {
        state.withLock { s in
            var outcome = s.outcome
            if !s.waiting.isEmpty {
                outcome.failed += s.waiting.count
                if outcome.firstError == nil {
                    outcome.firstError = "no acknowledgement for \(s.waiting.count) message(s) within the ack timeout"
                }
            }
            s = State()
            return outcome
        }
    }

    /// One answer: an acknowledgement (`duplicate` when the stream had the message) or a failure.
    func record(id: String, acknowledged: Bool, duplicate: Bool, error: String?, refused: Bool = false) {
        state.withLock { s in
            guard s.waiting.remove(id) != nil else { return }
            if acknowledged {
                s.outcome.acknowledged += 1
                if duplicate { s.outcome.duplicates += 1 }
            } else {
                s.outcome.failed += 1
                s.outcome.refused = s.outcome.refused || refused
                if s.outcome.firstError == nil { s.outcome.firstError = error }
            }
        }
    }

    /// The C client's callback: it owns the message until this returns and then destroys it here.
    static let handler: cnats_ack_handler = { _, message, ack, failure, closure in
        defer { natsMsg_Destroy(message) }
        guard let closure, let message, let id = cnats_msg_id(message).map({ String(cString: $0) }) else { return }
        let acknowledgements = Unmanaged<PublishAcknowledgements>.fromOpaque(closure).takeUnretainedValue()
        if let ack {
            acknowledgements.record(id: id, acknowledged: true, duplicate: ack.pointee.Duplicate, error: nil)
        } else if let failure {
            let status = String(cString: natsStatus_GetText(failure.pointee.Err))
            let text = failure.pointee.ErrText.map { String(cString: $0) }
            let code = failure.pointee.ErrCode.rawValue
            let reason = [status, text, code == 0 ? nil : "JetStream error \(code)"].compactMap { $0 }
            acknowledgements.record(
                id: id, acknowledged: false, duplicate: false, error: reason.joined(separator: ": "))
        }
    }
}
