import Projections

/// The words of the read side's refusals: which view may not run what, and what to run
/// instead. The queries carry the structure; this is the only place that phrases it.
extension ErrorReport {
    /// A disclosure refusal as one sentence for the command line.
    static func words(_ refusal: DisclosureRefusal) -> String {
        let role = refusal.role.roleName
        let why: String
        switch refusal.reason {
        case .threshold(let filter, let part, let k):
            // A threshold refusal is about the filter, not the command: name the command itself.
            let command = Self.command(refusal.query).split(separator: " ")[0]
            return
                "the \(role) view may not run `tandem \(command)` with this filter: the filter --\(filter.option) \(filter.value) leaves \(part == .group ? "a group" : "its complement") of fewer than \(k) people, which could name them; widen the filter"
        case .aggregatesOnly:
            why =
                "analysts see aggregates only, and a tandem is a group of two; run `tandem stats --by …` or `tandem dropouts` instead"
        case .peopleForCoordinators:
            why =
                "the list of people with their names and profiles is for coordinators; run `tandem stats` (analysts by segment) for figures"
        case .trailForCoordinatorsAndAuditors:
            why = "the event trail is for coordinators and auditors"
        case .profilesNotVisible:
            why =
                refusal.role == .analyst
                ? "matching works on individual profiles, which analysts do not see"
                : "matching works on personal profiles, which auditors do not see"
        case .noSegments:
            why =
                "auditors see pseudonymous ids, not units, levels, birth years or genders; segmented reports are for analysts"
        case .ownTandemsOnly:
            why =
                "participants see their own tandems: run `tandem tandems`, `tandem sessions`, `tandem goals` or `tandem due`"
        }
        return "the \(role) view may not run `tandem \(Self.command(refusal.query))`: \(why)"
    }

    /// The command a query kind is run with.
    static func command(_ query: QueryKind) -> String {
        switch query {
        case .atRisk: "tandems --at-risk"
        case .statsBySegment: "stats --by"
        case .dropoutsBySegment: "dropouts --by"
        default: query.rawValue
        }
    }

    /// A query that cannot be answered as asked, as one sentence for the command line.
    static func words(_ error: QueryError) -> String {
        switch error {
        case .noProgramme:
            return "the store holds no programme yet; launch one with `tandem programme launch`"
        case .whichProgramme(let ids):
            return
                "the store holds \(ids.count) programmes (\(ids.map(\.rawValue).joined(separator: ", "))); choose one with --programme"
        case .unknownProgramme(let id, let known):
            return "unknown programme '\(id)'"
                + (known.isEmpty ? "" : "; the programmes are \(known.map(\.rawValue).joined(separator: ", "))")
        case .unknownTandem(let id):
            return "unknown tandem '\(id)'; list them with `tandem tandems --status all`"
        case .unknownParticipant(let id):
            return "unknown participant '\(id)'"
        case .notYours(let id):
            return "tandem '\(id)' is not one of yours; a participant sees only their own tandems"
        case .invalid(let message):
            return message
        case .knownAtForAnalysts:
            return
                "the analyst view may not use --known-at: stepping through the log one entry at a time would single people out. Use --as-of DATE for figures as of a day; --known-at is for coordinators and auditors"
        case .knownAtBeyondHead(let seq, let head):
            return "--known-at seq:\(seq) is beyond the head of the log (seq \(head))"
        case .recordingNotAllowed:
            return "only coordinators record match runs (--role coordinator)"
        }
    }
}
