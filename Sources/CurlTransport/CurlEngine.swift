import CCurl
import Foundation
import Synchronization

/// Every HTTP transfer of the process, driven by one thread through libcurl's multi interface.
///
/// Requests of any number of clients (a thousand tenants' Graph polls, their token requests,
/// webhook POSTs) share this thread, its connection cache and HTTP/2 connections, so the
/// collector's thread count does not grow with its tenants. The thread only waits in
/// `curl_multi_poll` and never runs on Swift's cooperative pool; callers await a continuation.
///
/// A client's transfers in flight are bounded by its `connections`; the rest wait their turn in
/// arrival order (their timeout starts when their transfer does). Cancelling a waiting caller
/// takes its request out of the engine.
package final class CurlEngine: @unchecked Sendable {
    /// The engine of the process, started on first use.
    package static let shared = CurlEngine(name: "curl-engine")

    /// Jobs and cancellations handed over by callers; the engine's thread drains it.
    private struct Inbox {
        var submitted: [CurlJob] = []
        var cancelled: [CurlJob] = []
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private let counts = Mutex(Counters())

    // Touched only by the engine's thread.
    private var active: [UnsafeMutableRawPointer: CurlJob] = [:]
    /// Jobs over their client's bound, in arrival order (short queues: an array will do).
    private var waiting: [Int: [CurlJob]] = [:]
    private var running: [Int: Int] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    /// What the engine has done, for tests and metrics.
    package struct Counters: Sendable, Equatable {
        package var started = 0
        package var finished = 0
        /// Connections libcurl opened; the rest of the transfers reused one.
        package var connectionsOpened = 0
        package var inFlight: Int { started - finished }
    }

    package var counters: Counters { counts.withLock { $0 } }

    /// `maxConnections` bounds the open connections over all hosts (libcurl keeps that many in its cache).
    package init(name: String, maxConnections: Int = 512) {
        _ = CurlLibrary.initialized
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Hands a job to the engine; its continuation is resumed on the engine's thread when it ends.
    func submit(_ job: CurlJob) {
        inbox.withLock { $0.submitted.append(job) }
        curl_multi_wakeup(multi)
    }

    /// Ends a job early (its caller was cancelled); its continuation gets ``HTTPClientError/Kind/cancelled``.
    func cancel(_ job: CurlJob) {
        inbox.withLock { $0.cancelled.append(job) }
        curl_multi_wakeup(multi)
    }

    private func run() {
        var stillRunning: Int32 = 0
        while true {
            let admitted = drainInbox()
            _ = curl_multi_perform(multi, &stillRunning)
            let finished = collectFinished()
            _ = curl_multi_poll(multi, nil, 0, admitted || finished ? 0 : 1000, nil)
        }
    }

    /// Starts submitted jobs (as far as their clients' limits allow) and ends cancelled ones.
    private func drainInbox() -> Bool {
        let (submitted, cancelled) = inbox.withLock { box in
            defer { box = Inbox() }
            return (box.submitted, box.cancelled)
        }
        for job in submitted {
            if job.transfer.cancel.isSet {
                complete(job, .failure(job.cancelled))
            } else if running[job.client, default: 0] < job.limit {
                start(job)
            } else {
                waiting[job.client, default: []].append(job)
            }
        }
        for job in cancelled {
            if let h = job.handle, active[h] === job {
                _ = curl_multi_remove_handle(multi, h)
                finish(job, .failure(job.cancelled))
            } else if let index = waiting[job.client]?.firstIndex(where: { $0 === job }) {
                waiting[job.client]!.remove(at: index)
                complete(job, .failure(job.cancelled))
            }
        }
        return !submitted.isEmpty || !cancelled.isEmpty
    }

    /// Starts `job`; when libcurl cannot take it, the job ends at once with the reason.
    private func start(_ job: CurlJob) {
        func refuse(_ code: Int32, _ message: String) {
            complete(job, .failure(HTTPClientError(kind: .other, code: code, message: message, url: job.request.url)))
        }
        guard let h = idleHandles.popLast() ?? curl_easy_init() else {
            return refuse(-1, "curl_easy_init failed")
        }
        job.attach(to: h)
        let added = curl_multi_add_handle(multi, h)
        guard added == CURLM_OK else {
            _ = job.detach()
            curl_easy_cleanup(h)
            return refuse(
                Int32(added.rawValue), "curl_multi_add_handle: \(String(cString: curl_multi_strerror(added)))")
        }
        active[h] = job
        running[job.client, default: 0] += 1
        counts.withLock { $0.started += 1 }
    }

    private func collectFinished() -> Bool {
        var any = false
        var handle: UnsafeMutableRawPointer?
        var code = CURLE_OK
        while ccurl_multi_next_done(multi, &handle, &code) != 0 {
            guard let h = handle, let job = active[h] else { continue }
            var opened = 0
            _ = ccurl_getinfo_long(h, CURLINFO_NUM_CONNECTS, &opened)
            if opened > 0 { counts.withLock { $0.connectionsOpened += opened } }
            let outcome = job.outcome(code)
            _ = curl_multi_remove_handle(multi, h)
            finish(job, outcome)
            any = true
        }
        return any
    }

    /// A started job ends: its handle goes back to the pool and its client's next job starts.
    private func finish(_ job: CurlJob, _ outcome: Result<HTTPResponse, HTTPClientError>) {
        if let h = job.detach() {
            active[h] = nil
            if idleHandles.count < 64 { idleHandles.append(h) } else { curl_easy_cleanup(h) }
        }
        running[job.client, default: 1] -= 1
        counts.withLock { $0.finished += 1 }
        complete(job, outcome)
        // The client's waiting jobs take the freed place (more than one if a start fails).
        let client = job.client
        while let next = waiting[client]?.first, running[client, default: 0] < next.limit {
            waiting[client]!.removeFirst()
            if waiting[client]!.isEmpty { waiting[client] = nil }
            start(next)
        }
        if running[client] == 0 { running[client] = nil }
    }

    private func complete(_ job: CurlJob, _ outcome: Result<HTTPResponse, HTTPClientError>) {
        let continuation = job.continuation
        job.continuation = nil
        continuation?.resume(returning: outcome)
    }
}
