import EventLog
import Mentoring
import Synchronization

/// What every query gets: the folded read model, the basis, the viewer, and the vault
/// (for the few views that may show personal text).
public struct QueryInput: Sendable {
    public var model: ProgrammeReadModel
    public var basis: Basis
    public var vault: Vault?
    /// Each programme's headline figures, when they were read from a snapshot instead of
    /// the model (which then holds the programmes only).
    public var figures: [ProgrammeID: StatsQuery.Figures]?
    /// How figures about groups are published to this viewer.
    public var disclosure: DisclosurePolicy
    /// The seq of the checkpoint a time-travel query resumed from (0: folded from the first
    /// line); nil for other loads.
    package var resumedFrom: Int?
    /// Every tandem's sessions, from the session index, for a request that lists them
    /// (`SessionKeeping.listed`) and got a listing; nil otherwise (the model's `sessionLog`
    /// then holds them).
    public var sessionListing: SessionIndex.Listing?
    /// Whether the model is a slice holding only the tandems the query is confined to.
    package var sliced = false
    /// Profiles read from the vault on first use, for the queries that show names or match.
    private let profileCache = ProfileCache()

    public init(
        model: ProgrammeReadModel, basis: Basis, vault: Vault? = nil, figures: [ProgrammeID: StatsQuery.Figures]? = nil,
        disclosure: DisclosurePolicy? = nil
    ) {
        self.disclosure = disclosure ?? DisclosurePolicy(viewer: basis.role)
        self.model = model
        self.basis = basis
        self.vault = vault
        self.figures = figures
    }

    /// The whole profile of each person asked for who still has one: one streaming pass
    /// over the vault for those not read before.
    /// - Throws: `SystemError` if the vault cannot be read.
    public func profiles(of people: some Sequence<ParticipantID>) throws -> [ParticipantID: Profile] {
        let refs = profileRefs(of: people)
        let found = try profileCache.profiles(Set(refs.keys), vault: vault)
        var out: [ParticipantID: Profile] = [:]
        out.reserveCapacity(found.count)
        for (ref, profile) in found { if let id = refs[ref] { out[id] = profile } }
        return out
    }

    /// The profile of the person in each of `rows` as a listing shows it (name, email, unit,
    /// level, birth year, gender; no lists), at the row's position (nil: no profile, or
    /// erased): read in one pass over the vault on every core, not kept in the cache. For
    /// `people`, which lists everyone.
    /// - Throws: `SystemError` if the vault cannot be read.
    public func listedProfiles(ofRows rows: [Int32]) throws -> ListedProfiles {
        var out = ListedProfiles(count: rows.count)
        guard let vault else { return out }
        let refs = model.peopleRows.numberedRefs(of: rows) { position, _ in position }
        // The lists are never shown: checked, not read.
        try vault.forEachProfile(of: refs, lists: false) { position, profile in out.set(profile, at: Int(position)) }
        return out
    }

    /// The vault ref of each person's profile (those who still have one), by ref. Sized up
    /// front: a listing of everyone grows it to a million entries.
    private func profileRefs(of people: some Sequence<ParticipantID>) -> [String: ParticipantID] {
        var refs: [String: ParticipantID] = [:]
        refs.reserveCapacity(people.underestimatedCount)
        for id in people { if let ref = model.people.profileRef(of: id) { refs[ref] = id } }
        return refs
    }

    public var viewer: Viewer { basis.role }
    public var asOf: BusinessDate { basis.asOf }

    /// The programme a query is about: the one asked for, or the only one there is.
    /// - Throws: `QueryError` if it does not exist, or if there are several and none was asked for.
    public func programme(_ asked: ProgrammeID?) throws(QueryError) -> Programme {
        if let asked {
            guard let programme = model.programmes[asked] else {
                throw .unknownProgramme(asked, known: model.programmeOrder)
            }
            return programme
        }
        guard !model.programmeOrder.isEmpty else { throw .noProgramme }
        guard model.programmeOrder.count == 1 else { throw .whichProgramme(model.programmeOrder) }
        return model.programmes[model.programmeOrder[0]]!
    }

    /// The person's display name for this viewer: names for coordinators, and for a
    /// participant only their partner's.
    public func name(of person: ParticipantID, partnerOf viewerID: ParticipantID? = nil) -> JSONValue {
        // Coordinators see every name; a participant their partners' (the queries show them
        // only their own tandems); no one else any.
        guard disclosure.showsNames, person != disclosure.ownTandemsOf, let row = model.peopleRows.row(of: person)
        else { return .null }
        return name(ofRow: row)
    }

    /// `name(of:)` of the person in people row `row`: for a listing that holds rows, which
    /// need not look each person up by id (a million lookups were most of printing `due`).
    func name(ofRow row: Int32) -> JSONValue {
        let rows = model.peopleRows
        guard disclosure.showsNames else { return .null }
        if let me = disclosure.ownTandemsOf, rows.id(ofRow: row) == me { return .null }
        // Names are read only for a viewer who may see them: all of them at once, the first
        // time one is asked for (a report that shows one shows many).
        guard rows.hasProfileRef(ofRow: row) else { return .null }
        if !profileCache.hasName(row: row) {
            try? profileCache.loadNames(rows.numberedRefs, count: rows.count, vault: vault)
        }
        return profileCache.name(row: row).map { .string($0) } ?? .null
    }

    /// Reads the names of the people in `rows` only, for a list that shows those and no
    /// other (`due` shows half a million of a million and a half); a name asked for beyond
    /// them still reads everyone's. Nothing is read for a viewer who sees no names.
    public func readNames(ofRows wanted: [Int32]) {
        guard disclosure.showsNames, wanted.contains(where: { !profileCache.hasName(row: $0) }) else { return }
        let rows = model.peopleRows
        let refs = rows.numberedRefs(of: wanted, numbering: { _, row in row })
        try? profileCache.loadNames(refs, count: rows.count, vault: vault, covering: wanted)
    }

    /// Vault texts by ref, read only for the refs asked for.
    public func texts(_ refs: Set<String>) throws -> [String: String] {
        guard let vault, !refs.isEmpty else { return [:] }
        return try vault.texts(of: refs)
    }
}

/// A query that cannot be answered as asked.
public enum QueryError: Error, Equatable, Sendable, CustomStringConvertible {
    case noProgramme
    case whichProgramme([ProgrammeID])
    case unknownProgramme(ProgrammeID, known: [ProgrammeID])
    case unknownTandem(TandemID)
    case unknownParticipant(ParticipantID)
    case notYours(TandemID)
    case invalid(String)
    /// An analyst asked for `--known-at`.
    case knownAtForAnalysts
    /// `--known-at seq:N` past the log's head.
    case knownAtBeyondHead(Int, head: Int)
    /// A view that may not record asked to (`suggest --record` as an analyst).
    case recordingNotAllowed

    /// The case and its values, without advice: the command line words it (`ErrorReport`).
    public var description: String {
        guard let child = Mirror(reflecting: self).children.first else { return "\(String(describing: Self.self))" }
        return "\(child.label ?? "query"): \(child.value)"
    }
}

/// Profiles read from the vault, kept for the rest of the query.
final class ProfileCache: Sendable {
    private let lock = Mutex<(profiles: [String: Profile], asked: Set<String>)>(([:], []))
    /// Names by row, once asked for: nil until then; and which rows were read (nil: all).
    private let names = Mutex<(names: [String?], read: [Bool]?)?>(nil)

    /// Whether the name of the person in `row` was read (found or not).
    func hasName(row: Int32) -> Bool {
        names.withLock { state in
            guard let state else { return false }
            return state.read.map { Int(row) < $0.count && $0[Int(row)] } ?? true
        }
    }

    /// The name of the person in `row`, if it was read and found.
    func name(row: Int32) -> String? {
        names.withLock { state in state.flatMap { Int(row) < $0.names.count ? $0.names[Int(row)] : nil } }
    }

    /// Reads the names of `refs` (numbered by row, `count` rows) in one pass over the vault
    /// (none if `vault` is nil): of everyone, or of the rows `covering` lists.
    func loadNames(_ refs: NumberedRefs, count: Int, vault: Vault?, covering: [Int32]? = nil) throws {
        let found = try vault?.names(of: refs, count: count) ?? [String?](repeating: nil, count: count)
        var read: [Bool]?
        if let covering {
            var marks = [Bool](repeating: false, count: count)
            for row in covering { marks[Int(row)] = true }
            read = marks
        }
        names.withLock { $0 = (found, read) }
    }

    /// The profiles with these refs; refs not asked for before are read from `vault` in one
    /// pass (none are read if `vault` is nil).
    func profiles(_ refs: Set<String>, vault: Vault?) throws -> [String: Profile] {
        // Filtered one by one: `Set.subtracting` would walk the (large) set of refs asked before.
        let missing = lock.withLock { state in refs.filter { !state.asked.contains($0) } }
        if !missing.isEmpty, let vault {
            var found: [String: Profile] = [:]
            try vault.forEachLine(withRefIn: missing) { line in
                if let profile = line.payload?.profile { found[line.ref] = profile }
            }
            let first = lock.withLock { state in
                // The first read (all a one-shot process makes) becomes the cache as it is.
                guard !state.asked.isEmpty else {
                    (state.profiles, state.asked) = (found, missing)
                    return true
                }
                state.profiles.merge(found) { $1 }
                state.asked.formUnion(missing)
                return false
            }
            // Everything asked was read just now: what was found is the answer.
            if first, missing.count == refs.count { return found }
        }
        return lock.withLock { state in
            var out: [String: Profile] = [:]
            out.reserveCapacity(refs.count)
            for ref in refs { if let p = state.profiles[ref] { out[ref] = p } }
            return out
        }
    }
}
