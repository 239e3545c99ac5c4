import CollectorCore

/// The pages of a window published and not yet known to be accepted by every required sink:
/// what a progress checkpoint may cover, and what a restart must collect again.
struct ProgressTracker {
    /// A published page.
    struct Page {
        var receipt: DeliveryReceipt
        var keys: [String]
        /// The newest alert time on this and every earlier page of the window (for a part of a
        /// page, but its last, that of the pages before).
        var newest: Timestamp?
        /// Whether this publication ends its page (a page may go out in several parts).
        var endsPage = true
    }

    private(set) var inFlight: [Page] = []
    /// Whether the pages' keys are kept for a progress checkpoint. A slice saves none (the
    /// backfill checkpoints over whole slices), so it keeps none: its pages are settled only when
    /// it ends, and their keys would grow with it.
    let keepsKeys: Bool

    init(keepingKeys: Bool = true) { keepsKeys = keepingKeys }

    var isEmpty: Bool { inFlight.isEmpty }
    /// Pages published and not yet settled (a page in parts counts once it is all out).
    var count: Int { inFlight.count { $0.endsPage } }
    /// The newest alert time published so far.
    var newestPublished: Timestamp? { inFlight.last?.newest }
    /// The keys of the pages not yet settled (left out of a progress checkpoint).
    var unsettledKeys: [String] { inFlight.flatMap(\.keys) }

    mutating func published(_ receipt: DeliveryReceipt, keys: [String], newest: Timestamp?, endsPage: Bool = true) {
        inFlight.append(Page(receipt: receipt, keys: keepsKeys ? keys : [], newest: newest, endsPage: endsPage))
    }

    /// Waits until every page but the newest `keeping` is accepted (whole pages: the parts of a
    /// page still going out are kept too); returns the newest time they reach. Throws when a
    /// required sink did not accept one.
    mutating func settle(keeping: Int = 0) async throws -> Timestamp? {
        var kept = 0
        var end = inFlight.count
        // Back over the newest `keeping` page ends, and any parts after the last of them.
        while end > 0, kept < keeping || !inFlight[end - 1].endsPage {
            if inFlight[end - 1].endsPage { kept += 1 }
            end -= 1
        }
        let settled = inFlight.prefix(end)
        for page in settled { try await Self.accepted(page) }
        let reached = settled.last?.newest
        inFlight.removeFirst(settled.count)
        return reached
    }

    /// Whether everything published is accepted, without throwing (for a graceful stop).
    func allAccepted() async -> Bool {
        for page in inFlight where await !page.receipt.delivered().isComplete { return false }
        return true
    }

    static func accepted(_ page: Page) async throws {
        let report = await page.receipt.delivered()
        guard report.isComplete else {
            throw SourceStopped(
                reason: "sinks \(report.undeliveredBy.sorted().joined(separator: ", ")) did not accept the window; "
                    + "not checkpointing past it")
        }
    }
}
