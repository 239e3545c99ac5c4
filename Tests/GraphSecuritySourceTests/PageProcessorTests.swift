import CollectorCore
import Foundation
import GraphSecuritySource
import Testing

/// The pure core of collection: pages into events, and what a window proves. No HTTP here.
@Suite struct PageProcessorTests {
    static let t0 = Timestamp(iso8601: "2026-11-01T10:00:00Z")!
    let processor = PageProcessor(endpoint: .alerts, sourceName: "graph", tenant: "t")

    static func v1(_ id: String, _ seconds: Double, provider: String = "MCAS") -> RawJSON {
        RawJSON(
            .object([
                ("id", .string(id)), ("title", "x"),
                ("lastModifiedDateTime", .string(t0.adding(seconds: seconds).iso8601())),
                ("vendorInformation", .object([("provider", .string(provider)), ("vendor", "Microsoft")])),
            ]))
    }

    @Test func publishesNewAlertsDropsSeenOnesAndTurnsWarningsIntoEvents() {
        var keys: [String: Int64] = [:]
        let first = processor.process(
            status: 200, items: [Self.v1("a", 1), Self.v1("b", 2)], warnings: [], query: "/q",
            observedAt: Self.t0, recentKeys: &keys)
        #expect(first.alerts == 2 && first.duplicates == 0 && first.newKeys.count == 2 && !first.isPartial)
        #expect(first.newest == Self.t0.adding(seconds: 2) && first.oldest == Self.t0.adding(seconds: 1))
        let warning = #"199 - "Microsoft/O'Brien and Sons Watch/504/10000", 199 - "Microsoft/IPC/403/10""#
        let second = processor.process(
            status: 206, items: [Self.v1("b", 2), Self.v1("c", 3)], warnings: [warning], query: "/q",
            observedAt: Self.t0, recentKeys: &keys)
        #expect(second.alerts == 1 && second.duplicates == 1 && second.isPartial && !second.isEmpty)
        #expect(second.failures.map(\.provider) == ["O'Brien and Sons Watch", "IPC"])
        #expect(second.events.compactMap(\.providerWarning).map(\.httpStatus) == [504, 403])
        #expect(second.ids == ["b", "c"])
        #expect(second.versions.map(\.id) == ["c"])  // only what is new
    }

    /// New alerts that are a small part of their page (the rest seen before) get texts of their
    /// own, so a sink's queue does not keep the whole body alive for them; a page of new alerts
    /// keeps sharing its body.
    @Test func aFewNewAlertsAmongDuplicatesDoNotKeepTheirPageBodyAlive() throws {
        let body = Array(
            (#"{"value":["# + (0..<10).map { Self.v1("a\($0)", Double($0)).description }.joined(separator: ",") + "]}")
                .utf8)
        let items = try GraphPage(body: body).items
        #expect(items.count == 10 && items.allSatisfy(\.sharesABuffer))
        var keys: [String: Int64] = [:]
        let all = processor.process(
            status: 200, items: items, warnings: [], query: "/q", observedAt: Self.t0, recentKeys: &keys)
        #expect(all.alerts == 10 && all.events.allSatisfy { $0.alert?.raw.sharesABuffer == true })
        var seen = keys
        seen.removeValue(forKey: try #require(all.events.first?.alert?.deduplicationKey))
        let sparse = processor.process(
            status: 200, items: items, warnings: [], query: "/q", observedAt: Self.t0, recentKeys: &seen)
        let alert = try #require(sparse.events.first?.alert)
        #expect(sparse.alerts == 1 && sparse.duplicates == 9)
        #expect(!alert.raw.sharesABuffer && alert.raw == items[0] && alert.raw.bytes.capacity < 200)
    }

    @Test func anItemThatIsNotAnAlertAndAnUnreadableTimeBecomeHealthEvents() {
        var keys: [String: Int64] = [:]
        let unset = RawJSON(
            .object([
                ("id", "u"), ("lastModifiedDateTime", .string(Self.t0.iso8601())),
                ("closedDateTime", "0001-01-01T00:00:00Z"),
            ]))
        let page = processor.process(
            status: 200, items: [RawJSON("not an object"), unset], warnings: [], query: "/q",
            observedAt: Self.t0, recentKeys: &keys)
        #expect(page.alerts == 1 && page.unreadableFields == 1)
        #expect(page.events.compactMap(\.health).map(\.code) == ["item_malformed", "field_unreadable"])
    }

    @Test func a206ProvesOnlyWhatItsPageShows() {
        var keys: [String: Int64] = [:]
        func page(_ status: Int, _ items: [RawJSON], _ warnings: [String] = []) -> PageOutcome {
            processor.process(
                status: status, items: items, warnings: warnings, query: "/q", observedAt: Self.t0, recentKeys: &keys)
        }
        let named = [#"199 - "Microsoft/IPC/504/1""#]
        var mid = WindowResult()
        mid.record(page(206, [Self.v1("a", 1)], named), isLast: false)
        mid.record(page(200, [Self.v1("b", 2)]), isLast: true)
        #expect(mid.wholeWindowOwedBecause == nil && mid.failures.map(\.provider) == ["IPC"])
        var empty = WindowResult()
        empty.record(page(206, [], named), isLast: false)
        empty.record(page(200, [Self.v1("c", 3)]), isLast: true)
        #expect(empty.wholeWindowOwedBecause == "a 206 Partial Content answer had no items")
        var last = WindowResult()
        last.record(page(206, [Self.v1("d", 4)], named), isLast: true)
        #expect(last.wholeWindowOwedBecause == "paging ended on a 206 Partial Content answer")
        var anonymous = WindowResult()
        anonymous.record(page(206, [Self.v1("e", 5)]), isLast: false)
        anonymous.record(page(200, []), isLast: true)
        #expect(anonymous.wholeWindowOwedBecause == "a 206 Partial Content answer named no provider")
    }
}

@Suite struct RecoverySchedulerTests {
    static let t0 = PageProcessorTests.t0
    let scheduler = RecoveryScheduler(federated: true, giveUpAfter: .seconds(3600))

    func result(_ failures: [(String, Int)], whole: Bool = false) -> WindowResult {
        var r = WindowResult()
        var page = PageOutcome()
        page.isPartial = !failures.isEmpty || whole
        page.isEmpty = whole
        page.failures = failures.map { ProviderFailure(vendor: "Microsoft", provider: $0.0, status: $0.1) }
        r.record(page, isLast: false)
        return r
    }

    @Test func aWindowOwesItsFailingProvidersAndTheWholeEndpointWhenTheAnswersProvedTooLittle() {
        var cp = EndpointCheckpoint(watermark: Self.t0)
        _ = scheduler.owe(
            after: result([("IPC", 504), ("MCAS", 403)]), from: Self.t0, to: Self.t0.adding(seconds: 60), now: Self.t0,
            checkpoint: &cp)
        #expect(cp.pending.map(\.scope) == [.provider("IPC"), .provider("MCAS")])
        // The next window, overlapping, extends what the still-failing provider owes.
        _ = scheduler.owe(
            after: result([("IPC", 504)], whole: true), from: Self.t0.adding(seconds: 50),
            to: Self.t0.adding(seconds: 120),
            now: Self.t0, checkpoint: &cp)
        #expect(cp.pending.count == 3)
        #expect(cp.pending[0].to == Self.t0.adding(seconds: 120) && cp.pending[0].from == Self.t0)
        #expect(cp.pending[2].scope == .wholeEndpoint)
    }

    @Test func aProviderGivenUpOnIsSkippedAndResumesWhenItAnswers() {
        var cp = EndpointCheckpoint(watermark: Self.t0)
        cp.abandoned["IPC"] = Self.t0
        let resumed = scheduler.owe(
            after: result([("IPC", 403)]), from: Self.t0, to: Self.t0.adding(seconds: 60), now: Self.t0, checkpoint: &cp
        )
        #expect(cp.pending.isEmpty && resumed.isEmpty)
        let again = scheduler.owe(
            after: result([]), from: Self.t0, to: Self.t0.adding(seconds: 60), now: Self.t0, checkpoint: &cp)
        #expect(again == ["IPC"] && cp.abandoned.isEmpty)
    }

    @Test func anOwedWindowIsRecoveredStillOwedOrGivenUp() {
        let window = OwedWindow(
            scope: .provider("IPC"), from: Self.t0, to: Self.t0.adding(seconds: 60), firstFailure: Self.t0,
            lastStatus: 504, attempts: 1)
        var also: [OwedWindow] = []
        #expect(scheduler.decide(window, after: result([("MCAS", 500)]), now: Self.t0, also: &also) == .recovered)
        #expect(also.map(\.scope) == [.provider("MCAS")])
        guard
            case .stillOwed(let w) = scheduler.decide(window, after: result([("IPC", 504)]), now: Self.t0, also: &also)
        else {
            Issue.record("expected still owed")
            return
        }
        #expect(w.attempts == 2)
        // Given up only after its own Warning items said 401/403 without a break for the limit.
        let later = Self.t0.adding(seconds: 7200)
        guard
            case .stillOwed(let streak) = scheduler.decide(
                window, after: result([("IPC", 403)]), now: Self.t0, also: &also)
        else {
            Issue.record("expected still owed")
            return
        }
        #expect(streak.persistentSince == Self.t0)
        guard case .abandoned = scheduler.decide(streak, after: result([("IPC", 403)]), now: later, also: &also) else {
            Issue.record("expected abandoned")
            return
        }
        guard
            case .stillOwed(let broken) = scheduler.decide(
                streak, after: result([("IPC", 504)]), now: later, also: &also),
            broken.persistentSince == nil
        else {
            Issue.record("a 504 breaks the streak")
            return
        }
        // The request's own 403 (the whole tenant refused) never gives a provider up.
        guard case .stillOwed = scheduler.failed(streak, status: 403, now: later) else {
            Issue.record("expected still owed")
            return
        }
        // The whole endpoint is never given up on: its refusal is the endpoint's problem.
        let whole = OwedWindow(
            scope: .wholeEndpoint, from: Self.t0, to: Self.t0, firstFailure: Self.t0, lastStatus: 403, attempts: 1)
        guard case .stillOwed = scheduler.failed(whole, status: 403, now: later) else {
            Issue.record("expected still owed")
            return
        }
    }

    @Test func anUnfilteredCollectionSettlesTheWindowsItCovers() {
        let span = (Self.t0, Self.t0.adding(seconds: 60))
        let windows = [
            OwedWindow(
                scope: .provider("IPC"), from: span.0, to: span.1, firstFailure: Self.t0, lastStatus: 504, attempts: 1),
            OwedWindow(
                scope: .provider("MCAS"), from: span.0, to: span.1, firstFailure: Self.t0, lastStatus: 504, attempts: 1),
            OwedWindow(
                scope: .wholeEndpoint, from: span.0, to: span.1, firstFailure: Self.t0, lastStatus: 206, attempts: 1),
            OwedWindow(
                scope: .provider("ASC"), from: span.0, to: span.1.adding(seconds: 1), firstFailure: Self.t0,
                lastStatus: 504, attempts: 1),
        ]
        let settled = scheduler.settled(by: result([("MCAS", 504)]), from: span.0, to: span.1, among: windows)
        #expect(settled.map(\.scope) == [.provider("IPC"), .wholeEndpoint])
        #expect(scheduler.settled(by: result([], whole: true), from: span.0, to: span.1, among: windows).isEmpty)
    }

    @Test func checkpointsKeepOwedWindowsAcrossRestartsIncludingOlderOnes() throws {
        var cp = EndpointCheckpoint(watermark: Self.t0)
        var w = OwedWindow(
            scope: .provider("O'Brien"), from: Self.t0, to: Self.t0, firstFailure: Self.t0, lastStatus: 504, attempts: 2
        )
        w.unfiltered = true
        cp.pending = [
            w,
            OwedWindow(
                scope: .wholeEndpoint, from: Self.t0, to: Self.t0, firstFailure: Self.t0, lastStatus: 206, attempts: 1),
        ]
        let back = try #require(EndpointCheckpoint(json: cp.json))
        #expect(back.pending == cp.pending)
        let legacy = try JSONParser.parse(
            #"{"watermark": "2026-11-01T10:00:00Z", "pending": [{"provider": "*", "from": "2026-11-01T10:00:00Z", "to": "2026-11-01T10:00:00Z", "first_failure": "2026-11-01T10:00:00Z"}]}"#
        )
        #expect(EndpointCheckpoint(json: legacy)?.pending.first?.scope == .wholeEndpoint)
    }

    @Test func shiftWatchFlagsAWindowWhoseAlertWasUpdatedWhileItWasPaged() {
        var watch = ShiftWatch(margin: .seconds(2))
        watch.watch(
            ShiftWatch.Watched(
                scope: .wholeEndpoint, from: Self.t0, to: Self.t0.adding(seconds: 60),
                pagingStarted: Self.t0.adding(seconds: 60), pagingEnded: Self.t0.adding(seconds: 70), ids: ["a", "b"]))
        #expect(watch.suspects(among: [("c", Self.t0.adding(seconds: 65))]).isEmpty)  // not an id it showed
        #expect(watch.suspects(among: [("a", Self.t0.adding(seconds: 90))]).isEmpty)  // updated long after
        #expect(watch.suspects(among: [("b", Self.t0.adding(seconds: 71))]).count == 1)
        #expect(watch.watched.isEmpty)
        watch.watch(
            ShiftWatch.Watched(
                scope: .wholeEndpoint, from: Self.t0, to: Self.t0, pagingStarted: Self.t0, pagingEnded: Self.t0,
                ids: ["a"]))
        watch.forget(before: Self.t0.adding(seconds: 3))
        #expect(watch.watched.isEmpty)
    }
}
