import EventLog
import Mentoring
import Testing

@testable import Projections

/// A session index record read two ways (entries with topics, and figures for sums): the
/// same sessions from a sound record, and a damaged one refused by both as `SnapshotError`,
/// never a trap on a number too large to add.
@Suite("Session index records: entries and figures, and damage refused")
struct SessionRecordTests {
    let tables = SessionIndex.Tables(programmes: [ProgrammeID("p1")!, ProgrammeID("p2")!], topics: ["ki", "social"])

    /// A session as the index writes it: seq delta, day delta, minutes, flags, topics.
    struct Raw {
        var seqDelta: UInt64
        var dayDelta: Int
        var minutes: Int = 45
        var flags: UInt64 = 0
        var topics: [UInt64] = []
    }

    /// A record of `programme` with `sessions` (and `count`, if it must lie), then `trailing`.
    func record(programme: UInt64 = 1, count: Int? = nil, _ sessions: [Raw], trailing: [UInt8] = []) -> [UInt8] {
        var w = SnapshotWriter(capacity: 64)
        w.write(programme)
        w.write(UInt64(count ?? sessions.count))
        for s in sessions {
            w.write(s.seqDelta)
            w.write(s.dayDelta)
            w.write(s.minutes)
            w.write(s.flags)
            w.write(UInt64(s.topics.count))
            for t in s.topics { w.write(t) }
        }
        w.writeRaw(trailing)
        return w.bytes
    }

    /// The sessions as the entry reader gives them, as figures.
    func entries(_ bytes: [UInt8]) throws -> [SessionIndex.SessionFigures] {
        var out: [SessionIndex.SessionFigures] = []
        _ = try bytes.withUnsafeBytes { raw in
            try SessionIndex.decode(raw, tables) { out.append(SessionIndex.SessionFigures($0)) }
        }
        return out
    }

    /// The sessions as the figure reader gives them.
    func figures(_ bytes: [UInt8]) throws -> [SessionIndex.SessionFigures] {
        try bytes.withUnsafeBytes { raw in
            var reader = try SessionIndex.FigureReader(raw, tables)
            var out: [SessionIndex.SessionFigures] = []
            while let session = try reader.next() { out.append(session) }
            return out
        }
    }

    @Test("a sound record reads the same sessions both ways, hand-computed")
    func sound() throws {
        let start = BusinessDate("2027-01-04")!.dayNumber
        let bytes = record([
            Raw(seqDelta: 7, dayDelta: start, minutes: 45, flags: 1, topics: [0, 1]),
            Raw(seqDelta: 3, dayDelta: 14, minutes: 90, flags: 2),
            Raw(seqDelta: 200, dayDelta: -2, minutes: 30, flags: 3, topics: [1]),
        ])
        let expected = [
            SessionIndex.SessionFigures(seq: 7, on: BusinessDate("2027-01-04")!, minutes: 45, online: true),
            SessionIndex.SessionFigures(seq: 10, on: BusinessDate("2027-01-18")!, minutes: 90, online: false),
            SessionIndex.SessionFigures(seq: 210, on: BusinessDate("2027-01-16")!, minutes: 30, online: true),
        ]
        #expect(try entries(bytes) == expected)
        #expect(try figures(bytes) == expected)
        #expect(try figures(record([])) == [])
    }

    @Test(
        "a damaged record is refused by both readers",
        arguments: [
            "seq delta 0", "seq delta past Int.max", "seq sum past Int.max", "day past Int32", "day sum overflows",
            "flags 4", "topic outside the table", "programme outside the table", "count larger than the sessions",
            "trailing bytes", "cut inside a number",
        ])
    func damaged(_ damage: String) {
        let ok = Raw(seqDelta: 5, dayDelta: 20_000)
        let bytes: [UInt8]
        switch damage {
        case "seq delta 0": bytes = record([ok, Raw(seqDelta: 0, dayDelta: 1)])
        case "seq delta past Int.max": bytes = record([Raw(seqDelta: .max, dayDelta: 1)])
        case "seq sum past Int.max": bytes = record([ok, Raw(seqDelta: UInt64(Int.max) - 2, dayDelta: 1)])
        case "day past Int32": bytes = record([Raw(seqDelta: 1, dayDelta: Int(Int32.max) + 1)])
        case "day sum overflows": bytes = record([Raw(seqDelta: 1, dayDelta: -1), Raw(seqDelta: 1, dayDelta: .min)])
        case "flags 4": bytes = record([Raw(seqDelta: 1, dayDelta: 1, flags: 4)])
        case "topic outside the table": bytes = record([Raw(seqDelta: 1, dayDelta: 1, topics: [0, 2])])
        case "programme outside the table": bytes = record(programme: 2, [ok])
        case "count larger than the sessions": bytes = record(count: 3, [ok, ok])
        case "trailing bytes": bytes = record([ok], trailing: [0])
        default: bytes = Array(record([Raw(seqDelta: 1 << 40, dayDelta: 1)]).prefix(5))
        }
        #expect(throws: SnapshotError.self, "entries: \(damage)") { try entries(bytes) }
        #expect(throws: SnapshotError.self, "figures: \(damage)") { try figures(bytes) }
    }
}
