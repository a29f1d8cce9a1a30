import EventLog
import Mentoring

/// `tandem sessions`: the sessions of the tandems in scope. Notes are shown only to the
/// tandem's own members, and that is recorded as a confidential read.
public enum SessionsQuery {
    public static func run(_ input: QueryInput, _ options: GoalsQuery.Options) throws -> QueryResult {
        try input.disclosure.permit(.sessions)
        let tandems = try TandemScope.select(input, programme: options.programme, tandem: options.tandem)
        let sessions = tandems.flatMap { input.model.sessionLog?[$0.id] ?? [] }
        var isMember = false
        if input.disclosure.ownTandemsOf != nil { isMember = true }
        let notes = isMember ? try input.texts(Set(sessions.compactMap(\.notesRef))) : [:]
        var rows: [JSONValue] = []
        var table: [[String]] = []
        for session in sessions {
            var object: JSONObject = [
                "tandem": .string(session.tandem.rawValue), "on": .string(session.on.description),
                "minutes": .int(Int64(session.minutes)), "mode": .string(session.mode.rawValue),
                "topics": .array(session.topics.map(JSONValue.string)),
                "hasNotes": .bool(session.notesRef != nil),
            ]
            if isMember { object["notes"] = session.notesRef.flatMap { notes[$0] }.map(JSONValue.string) ?? .null }
            rows.append(.object(object))
            var row = [
                session.tandem.rawValue, session.on.description, String(session.minutes), session.mode.rawValue,
                session.topics.joined(separator: ","),
            ]
            if isMember { row.append(session.notesRef.flatMap { notes[$0] } ?? "-") }
            table.append(row)
        }
        var headers = ["tandem", "on", "min", "mode", "topics"]
        if isMember { headers.append("notes") }
        var result = QueryResult(
            basis: input.basis, payloadKey: "sessions", payload: .array(rows),
            table: TextTable(headers: headers, rows: table, numeric: [2]))
        result.csvColumns = ["tandem", "on", "minutes", "mode", "topics", "hasNotes"] + (isMember ? ["notes"] : [])
        result.confidentialRead = isMember && !notes.isEmpty
        if !isMember {
            result.notes = [
                "Session notes are confidential: only the tandem's members see them, in the participant view."
            ]
        }
        return result
    }
}
