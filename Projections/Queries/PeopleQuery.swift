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
        /// Up to how many people the answer holds as values; more are streamed
        /// (`QueryResult.stream`), which prints the same.
        public var heldUpTo = 10_000
        public init(programme: ProgrammeID? = nil, search: String? = nil, status: Status = .all) {
            self.programme = programme
            self.search = search
            self.status = status
        }
    }

    /// A person's status and since when, from their row (`tandems` holds their active
    /// tandem's).
    static func standing(_ person: PeopleRows.Listed, tandems: TandemRows) -> (Status, BusinessDate) {
        if let withdrawn = person.withdrawnOn { return (.withdrawn, withdrawn) }
        if person.activeTandem >= 0 {
            return (.matched, BusinessDate(dayNumber: Int(tandems.row(person.activeTandem).since)))
        }
        if let end = person.lastEnd, end.status == .completed { return (.done, end.on) }
        return (.waiting, person.lastEnd?.on ?? person.signedUpOn)
    }

    static let headers = ["participant", "name", "role", "unit", "status", "tandem", "since"]
    static let keys = [
        "participant", "programme", "name", "email", "role", "unit", "level", "born", "gender", "status", "tandem",
        "since",
    ]

    /// One person's table cells and JSON values (in the order of `headers` and `keys`), or
    /// only the `part` asked for (the other empty).
    static func row(
        _ person: PeopleRows.Listed, tandem: TandemID?, _ profile: Profile?, status: Status, since: BusinessDate,
        part: StreamedList.Part?
    ) -> (cells: [String], values: [JSONValue]) {
        var values: [JSONValue] = []
        var cells: [String] = []
        if part != .cells {
            values = [
                .string(person.id.rawValue), .string(person.programme.rawValue),
                profile.map { .string($0.name) } ?? .null, profile?.email.map(JSONValue.string) ?? .null,
                .string(person.role.rawValue), profile.map { .string($0.unit) } ?? .null,
                profile.map { .int(Int64($0.level)) } ?? .null, profile.map { .int(Int64($0.born)) } ?? .null,
                profile?.gender.map(JSONValue.string) ?? .null, .string(status.rawValue),
                tandem.map { .string($0.rawValue) } ?? .null, .string(since.description),
            ]
        }
        if part != .values {
            cells = [
                person.id.rawValue, profile?.name ?? "(erased)", person.role.rawValue, profile?.unit ?? "",
                status.rawValue, tandem?.rawValue ?? "", since.description,
            ]
        }
        return (cells, values)
    }

    /// Whether a folded search (`needle`, its UTF-8) is in the folded name and email.
    static func matches(_ needle: [UInt8], name: String?, email: String?) -> Bool {
        var haystack = Field.fold((name ?? "") + " " + (email ?? ""))
        return haystack.withUTF8 { ByteSearch.contains(needle, in: UnsafeRawBufferPointer($0)) }
    }

    /// - Throws: `DisclosureRefusal` for analysts and auditors; `QueryError` for an unknown
    ///   programme.
    /// - Complexity: everyone of a large store (1.9 million people in ten million events) is
    ///   streamed: the rows that pass the filters are kept as numbers, their lines made as
    ///   they are printed.
    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.disclosure.permit(.people)
        if let programme = options.programme, input.model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: input.model.programmeOrder)
        }
        let model = input.model
        // In id order, sorted as (id, row) pairs: sorting a million views moved each whole.
        var rows = model.peopleRows.rowsInIDOrder(programme: options.programme)
        if let me = input.disclosure.ownTandemsOf { rows = rows.filter { model.peopleRows.id(ofRow: $0) == me } }
        // Each at its row's position in `rows`.
        let profiles = try input.listedProfiles(ofRows: rows)
        // Both sides folded (lower case, Latin accents off, in either Unicode form): a
        // search for the needle's bytes, far cheaper than comparing characters over a
        // million people.
        let needle = options.search.map { Array(Field.fold($0.trimmed).utf8) }
        // The rows that pass the filters, with the status each was judged by, and where
        // their profile is: 16 bytes each (as a tuple of words, 32: 42 MB on the 10M store).
        var selected: [(row: Int32, position: Int32, since: Int32, status: Status)] = []
        // Room for everyone at once: grown by doubling, the list peaked at 75 MB on the 10M
        // store, for 42 MB of entries.
        selected.reserveCapacity(rows.count)
        let people = model.peopleRows, tandems = model.tandemRows
        for (position, row) in rows.enumerated() {
            let (status, since) = standing(people.listed(row), tandems: tandems)
            if options.status != .all, status != options.status { continue }
            if let needle, !needle.isEmpty {
                let profile = profiles[position]
                guard Self.matches(needle, name: profile?.name, email: profile?.email) else { continue }
            }
            selected.append((row, Int32(position), Int32(clamping: since.dayNumber), status))
        }
        let chosen = selected
        /// The rows of the people at `range` in `chosen`.
        @Sendable func listed(
            _ range: Range<Int>, _ part: StreamedList.Part?, _ body: ([String], [JSONValue]) throws -> Void
        ) rethrows {
            for (row, position, since, status) in chosen[range] {
                let person = people.listed(row)
                let tandem = person.activeTandem >= 0 ? tandems.id(ofRow: person.activeTandem) : nil
                let (cells, values) = Self.row(
                    person, tandem: tandem, profiles[Int(position)], status: status,
                    since: BusinessDate(dayNumber: Int(since)), part: part)
                try body(cells, values)
            }
        }
        let count = selected.count
        var result = try QueryResult.list(
            basis: input.basis, payloadKey: "people", headers: headers, keys: keys, count: count,
            heldUpTo: options.heldUpTo
        ) { part, body in try listed(0..<count, part, body) }
        result.stream?.produce(over: count) { range, part, body in try listed(range, part, body) }
        if input.disclosure.ownTandemsOf != nil {
        } else if selected.isEmpty, options.search != nil {
            result.notes.append(
                "No one matches '\(options.search!)'; the search ignores case and accents (muller finds Müller).")
        }
        return result
    }
}
