import EventLog
import Mentoring

/// `tandem people`: who takes part, with their profile and where they stand, to find an id
/// by name. Coordinators see everyone; a participant sees their own row.
public enum PeopleQuery {
    /// Where someone stands on the as-of date.
    public enum Status: String, Sendable, CaseIterable {
        /// Signed up, in no tandem, not done: never matched, or freed.
        case waiting
        /// In an active tandem.
        case matched
        case withdrawn
        /// Their last tandem was completed.
        case done
        /// Any of the above (a filter only).
        case all
    }

    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var search: String?
        public var status: Status
        public init(programme: ProgrammeID? = nil, search: String? = nil, status: Status = .all) {
            self.programme = programme
            self.search = search
            self.status = status
        }
    }

    /// A person's status and since when.
    static func standing(_ person: PersonView, model: ProgrammeReadModel) -> (Status, BusinessDate) {
        if let withdrawn = person.withdrawnOn { return (.withdrawn, withdrawn) }
        if let tandem = person.activeTandem { return (.matched, model.tandems[tandem]?.since ?? person.signedUpOn) }
        if let end = person.lastTandemEnd, end.status == .completed { return (.done, end.on) }
        return (.waiting, person.lastTandemEnd?.on ?? person.signedUpOn)
    }

    /// - Throws: `DisclosureRefusal` for analysts and auditors; `QueryError` for an unknown
    ///   programme.
    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.disclosure.permit(.people)
        if let programme = options.programme, input.model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: input.model.programmeOrder)
        }
        // In id order, sorted as (id, row) pairs: sorting a million views moved each whole.
        var people = input.model.peopleRows.rowsInIDOrder(programme: options.programme).map {
            input.model.peopleRows.view($0, tandems: input.model.tandemRows)
        }
        if let me = input.disclosure.ownTandemsOf { people = people.filter { $0.id == me } }
        let profiles = try input.profiles(of: people.map(\.id))
        let needle = options.search.map { Field.fold($0.trimmed) }
        var rows: [JSONValue] = []
        var table: [[String]] = []
        for person in people {
            let (status, since) = standing(person, model: input.model)
            if options.status != .all, status != options.status { continue }
            let profile = profiles[person.id]
            if let needle, !needle.isEmpty {
                let haystack = Field.fold((profile?.name ?? "") + " " + (profile?.email ?? ""))
                guard haystack.contains(needle) else { continue }
            }
            rows.append(
                .object([
                    "participant": .string(person.id.rawValue), "programme": .string(person.programme.rawValue),
                    "name": profile.map { .string($0.name) } ?? .null,
                    "email": profile?.email.map(JSONValue.string) ?? .null,
                    "role": .string(person.role.rawValue), "unit": profile.map { .string($0.unit) } ?? .null,
                    "level": profile.map { .int(Int64($0.level)) } ?? .null,
                    "born": profile.map { .int(Int64($0.born)) } ?? .null,
                    "gender": profile?.gender.map(JSONValue.string) ?? .null, "status": .string(status.rawValue),
                    "tandem": person.activeTandem.map { .string($0.rawValue) } ?? .null,
                    "since": .string(since.description),
                ]))
            table.append([
                person.id.rawValue, profile?.name ?? "(erased)", person.role.rawValue, profile?.unit ?? "",
                status.rawValue,
                person.activeTandem?.rawValue ?? "", since.description,
            ])
        }
        var result = QueryResult(
            basis: input.basis, payloadKey: "people", payload: .array(rows),
            table: TextTable(
                headers: ["participant", "name", "role", "unit", "status", "tandem", "since"], rows: table))
        result.csvColumns = [
            "participant", "programme", "name", "email", "role", "unit", "level", "born", "gender", "status", "tandem",
            "since",
        ]
        if input.disclosure.ownTandemsOf != nil {
        } else if rows.isEmpty, options.search != nil {
            result.notes.append(
                "No one matches '\(options.search!)'; the search ignores case and accents (muller finds Müller).")
        }
        return result
    }
}
