import EventLog
import Mentoring

/// `tandem sessions`: the sessions of the tandems in scope. Notes are shown only to the
/// tandem's own members, and that is recorded as a confidential read.
///
/// Every session of a whole programme is listed from the session index and streamed
/// (`QueryInput.sessionListing`); one tandem's, or a member's, from the model. Both make
/// each row with `row(…)`, so that the two paths print the same.
public enum SessionsQuery {
    static let headers = ["tandem", "on", "min", "mode", "topics"]
    static let keys = ["tandem", "on", "minutes", "mode", "topics", "hasNotes"]
    static let numeric: Set<Int> = [2]
    static let notesNote =
        "Session notes are confidential: only the tandem's members see them, in the participant view."

    public static func run(_ input: QueryInput, _ options: GoalsQuery.Options) throws -> QueryResult {
        try input.disclosure.permit(.sessions)
        if let listing = input.sessionListing, options.tandem == nil, input.disclosure.ownTandemsOf == nil {
            return try listed(listing, input, programme: options.programme)
        }
        let tandems = try TandemScope.select(input, programme: options.programme, tandem: options.tandem)
        let sessions = tandems.flatMap { input.model.sessionLog?[$0.id] ?? [] }
        var isMember = false
        if input.disclosure.ownTandemsOf != nil { isMember = true }
        let notes = isMember ? try input.texts(Set(sessions.compactMap(\.notesRef))) : [:]
        var rows: [JSONValue] = []
        var table: [[String]] = []
        for session in sessions {
            let (shown, values) = row(
                session.tandem, on: session.on, minutes: session.minutes, mode: session.mode, topics: session.topics,
                hasNotes: session.notesRef != nil)
            var cells = shown
            var object = JSONObject(zip(keys, values).map { ($0, $1) })
            if isMember {
                let text = session.notesRef.flatMap { notes[$0] }
                object["notes"] = text.map(JSONValue.string) ?? .null
                cells.append(text ?? "-")
            }
            rows.append(.object(object))
            table.append(cells)
        }
        var result = QueryResult(
            basis: input.basis, payloadKey: "sessions", payload: .array(rows),
            table: TextTable(headers: headers + (isMember ? ["notes"] : []), rows: table, numeric: numeric))
        result.csvColumns = keys + (isMember ? ["notes"] : [])
        result.confidentialRead = isMember && !notes.isEmpty
        if !isMember { result.notes = [notesNote] }
        return result
    }

    /// Every session in scope, streamed from the index: no notes (the viewer is not a member).
    static func listed(
        _ listing: SessionIndex.Listing, _ input: QueryInput, programme: ProgrammeID?
    ) throws
        -> QueryResult
    {
        if let programme, input.model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: input.model.programmeOrder)
        }
        var result = QueryResult(
            basis: input.basis, payloadKey: "sessions", payload: .array([]),
            table: TextTable(headers: headers, rows: [], numeric: numeric))
        result.csvColumns = keys
        result.stream = StreamedList(
            headers: headers, numeric: numeric, keys: keys, count: try listing.count(programme: programme)
        ) { part, body in
            try listing.forEach(programme: programme) { tandem, entry in
                switch part {
                case .cells:
                    try body(
                        cells(tandem, on: entry.on, minutes: entry.minutes, mode: entry.mode, topics: entry.topics), [])
                case .values:
                    try body(
                        [],
                        values(
                            tandem, on: entry.on, minutes: entry.minutes, mode: entry.mode, topics: entry.topics,
                            hasNotes: entry.hasNotes))
                }
            }
        }
        // Written straight into the form rendered: what `row(…)` makes of each session; in
        // runs of tandems, on every core.
        let runs = try listing.runs()
        result.stream?.write = { writer in
            for run in 0..<runs.count { try write(runs, run: run, programme: programme, into: &writer) }
        }
        result.stream?.blocks = RowBlocks(count: runs.count) { run, writer in
            try write(runs, run: run, programme: programme, into: &writer)
        }
        result.notes = [notesNote]
        return result
    }

    /// Writes the sessions of one run of the listing, as `row(…)` makes each.
    private static func write(
        _ runs: SessionIndex.Listing.Runs, run: Int, programme: ProgrammeID?, into writer: inout RowWriter
    ) throws {
        // The cells many rows share are written once per writer and copied after (a
        // tandem's id, a day, the minutes, the mode, a list of topics, the notes flag).
        let topicsSeparator = UInt8(ascii: ",")
        try runs.forEachListed(run: run, programme: programme) { tandemNumber, tandem, session in
            writer.row { row in
                row.cell(memo: 0, key: tandemNumber) { $0.text(tandem.rawValue) }
                let day = session.on.dayNumber
                if (0..<(1 << 40)).contains(day) {
                    row.cell(memo: 1, key: UInt64(day)) { $0.date(session.on) }
                } else {
                    row.date(session.on)
                }
                if (0..<(1 << 20)).contains(session.minutes) {
                    row.cell(memo: 2, key: UInt64(session.minutes)) { $0.int(session.minutes) }
                } else {
                    row.int(session.minutes)
                }
                row.cell(memo: 3, key: session.mode == .online ? 1 : 0) { $0.text(session.mode.rawValue) }
                if let key = session.topicsKey {
                    row.cell(memo: 4, key: key.rawValue) {
                        $0.texts(runs.topics(key), tableSeparator: topicsSeparator)
                    }
                } else {
                    row.texts(session.topics, tableSeparator: topicsSeparator)
                }
                row.cell(memo: 5, key: session.hasNotes ? 1 : 0) { $0.flag(session.hasNotes) }
            }
        }
    }

    /// One session's table cells and JSON values (in the order of `headers` and `keys`).
    static func row(
        _ tandem: TandemID, on: BusinessDate, minutes: Int, mode: SessionMode, topics: [String], hasNotes: Bool
    ) -> ([String], [JSONValue]) {
        (
            cells(tandem, on: on, minutes: minutes, mode: mode, topics: topics),
            values(tandem, on: on, minutes: minutes, mode: mode, topics: topics, hasNotes: hasNotes)
        )
    }

    static func cells(
        _ tandem: TandemID, on: BusinessDate, minutes: Int, mode: SessionMode, topics: [String]
    )
        -> [String]
    {
        [tandem.rawValue, on.description, String(minutes), mode.rawValue, topics.joined(separator: ",")]
    }

    static func values(
        _ tandem: TandemID, on: BusinessDate, minutes: Int, mode: SessionMode, topics: [String], hasNotes: Bool
    ) -> [JSONValue] {
        [
            .string(tandem.rawValue), .string(on.description), .int(Int64(minutes)), .string(mode.rawValue),
            .array(topics.map(JSONValue.string)), .bool(hasNotes),
        ]
    }
}
