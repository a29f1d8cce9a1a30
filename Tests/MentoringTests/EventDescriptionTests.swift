import EventLog
import Foundation
import Mentoring
import Testing

/// Each event is described once; these check that the writer, the byte-level reader and the
/// tree reader agree on every kind, in and out of contract order.
@Suite("Event descriptions")
struct EventDescriptionTests {
    static let reference = PersonalReference(ref: "r-1", commit: SHA256.hash("x"))
    static let other = PersonalReference(ref: "r-2", commit: SHA256.hash("y"))

    /// Every payload kind, once with every optional field and once with none.
    static let samples: [ProgrammeEvent] = {
        let d = Fixture.d, p = Fixture.p, t = Fixture.t, g = Fixture.g
        return [
            .programmeLaunched(
                ProgrammeLaunched(
                    programme: Fixture.programme, name: "Pilot \"2027\" ✓", starts: d("2027-01-01"),
                    ends: d("2027-12-31"), cadenceDays: 21, minGroupSize: 5)),
            .participantSignedUp(
                ParticipantSignedUp(
                    participant: p("m1"), programme: Fixture.programme, role: .mentor, on: d("2027-01-02"),
                    personal: reference)),
            .tandemMatched(
                TandemMatched(
                    tandem: t("t1"), programme: Fixture.programme, mentor: p("m1"), mentee: p("e1"),
                    on: d("2027-01-03"))),
            .tandemMatched(
                TandemMatched(
                    tandem: t("t1"), programme: Fixture.programme, mentor: p("m1"), mentee: p("e1"),
                    on: d("2027-01-03"), override: "waived", overrideReason: reference, run: MatchRunID("run-1")!)),
            .tandemMatched(
                TandemMatched(
                    tandem: t("t1"), programme: Fixture.programme, mentor: p("m1"), mentee: p("e1"),
                    on: d("2027-01-03"), run: MatchRunID("run-1")!)),
            .sessionHeld(SessionHeld(tandem: t("t1"), on: d("2027-01-04"), minutes: 45, mode: .online)),
            .sessionHeld(
                SessionHeld(
                    tandem: t("t1"), on: d("2027-01-04"), minutes: 45, mode: .inPerson, topics: ["ki", "social"],
                    personal: reference)),
            .goalSet(GoalSet(tandem: t("t1"), goal: g("g1"), on: d("2027-01-05"), personal: reference)),
            .goalSet(
                GoalSet(
                    tandem: t("t1"), goal: g("g1"), on: d("2027-01-05"), due: d("2027-03-01"), category: "tools",
                    personal: reference)),
            .goalReached(GoalReached(tandem: t("t1"), goal: g("g1"), on: d("2027-02-01"))),
            .partnerSwapped(
                PartnerSwapped(
                    tandem: t("t1"), newTandem: t("t2"), leaving: p("e1"), joining: p("e2"), on: d("2027-02-02"),
                    reason: .mismatch)),
            .partnerSwapped(
                PartnerSwapped(
                    tandem: t("t1"), newTandem: t("t2"), leaving: p("e1"), joining: p("e2"), on: d("2027-02-02"),
                    reason: .mismatch, override: "waived", overrideReason: other, personal: reference)),
            .participantWithdrew(ParticipantWithdrew(participant: p("e2"), on: d("2027-02-03"), reason: .health)),
            .participantWithdrew(
                ParticipantWithdrew(participant: p("e2"), on: d("2027-02-03"), reason: .health, personal: reference)),
            .tandemCompleted(TandemCompleted(tandem: t("t2"), on: d("2027-06-30"))),
            .eventVoided(EventVoided(seq: 7)),
            .eventVoided(EventVoided(seq: 7, reason: "legacy text", personal: reference)),
            .personalDataErased(PersonalDataErased(participant: p("e2"), refs: ["r-1", "r-2"])),
            .matchRunRecorded(
                MatchRunRecorded(
                    run: MatchRunID("run-1")!, programme: Fixture.programme, on: d("2027-01-03"),
                    weights: ["unit": 2, "generation": 1.5], mentors: [p("m1"), p("m2")], mentees: [p("e1")],
                    pairs: [.init(mentor: p("m1"), mentee: p("e1"))])),
            .programmeClosed(ProgrammeClosed(programme: Fixture.programme, on: d("2027-12-31"))),
            .profileUpdated(
                ProfileUpdated(participant: p("m1"), fields: ["unit", "level"], on: d("2027-03-01"), personal: other)),
            .checkInRecorded(CheckInRecorded(tandem: t("t1"), participant: p("m1"), rating: 2, on: d("2027-03-02"))),
            .checkInRecorded(
                CheckInRecorded(
                    tandem: t("t1"), participant: p("m1"), rating: 5, on: d("2027-03-02"), personal: reference)),
        ]
    }()

    /// A whole log line around `data`, for the byte-level decoder.
    static func line(type: String, data: String) -> [UInt8] {
        let zeros = String(repeating: "0", count: 64)
        return Array(
            """
            {"seq":3,"at":"2027-01-01T09:00:00Z","actor":"anna","type":"\(type)","data":\(data),\
            "prev":"\(zeros)","hash":"\(zeros)"}
            """.utf8)
    }

    static func decodeLine(_ bytes: [UInt8]) throws -> ProgrammeEvent {
        try bytes.withUnsafeBytes { raw in
            try Result { () throws(EventDecodingError) in try EventDecoder.decode(raw, seq: 3) }.get()
        }.event
    }

    static func text(_ members: [(String, JSONValue)]) -> String {
        "{" + members.map { JSONValue.string($0.0).description + ":" + $0.1.description }.joined(separator: ",") + "}"
    }

    @Test("every kind is covered by the samples")
    func coverage() {
        let kinds = Set(Self.samples.map(\.type))
        #expect(kinds.count == 15)
    }

    @Test("written in contract order, read back from bytes and from the tree, the event is the same")
    func roundTrip() throws {
        for event in Self.samples {
            let data = event.json
            #expect(try ProgrammeEvent(type: event.type, data: data) == event, "\(event.type) from the tree")
            let bytes = Self.line(type: event.type, data: JSONValue.object(data).description)
            #expect(try Self.decodeLine(bytes) == event, "\(event.type) from bytes")
        }
    }

    @Test("an event's data written straight into bytes is its object's bytes, and so is the line's body")
    func dataBytes() {
        let weird = "q\"b\\s\n\t\u{01}ö😀"
        var events = Self.samples
        events += [
            .programmeLaunched(
                ProgrammeLaunched(
                    programme: Fixture.programme, name: weird, starts: Fixture.d("2027-01-01"),
                    ends: Fixture.d("2027-12-31"), cadenceDays: -1, minGroupSize: Int.max)),
            .eventVoided(EventVoided(seq: 0, reason: weird)),
            .goalSet(
                GoalSet(
                    tandem: Fixture.t("t1"), goal: Fixture.g("g1"), on: Fixture.d("1970-01-01"), category: weird,
                    personal: PersonalReference(ref: weird, commit: SHA256.hash("z")))),
            .sessionHeld(
                SessionHeld(
                    tandem: Fixture.t("t1"), on: Fixture.d("2099-12-31"), minutes: Int.min, mode: .online,
                    topics: [weird, "", "x"])),
            .matchRunRecorded(
                MatchRunRecorded(
                    run: MatchRunID("r")!, programme: Fixture.programme, on: Fixture.d("2027-01-03"),
                    weights: [weird: 0.1, "a": -2.5e-7, "b": 3], mentors: [], mentees: [], pairs: [])),
            // Dates are written in place for years 0 to 9999, and as text beyond them.
            .sessionHeld(
                SessionHeld(tandem: Fixture.t("t1"), on: BusinessDate(dayNumber: -719_528), minutes: 1, mode: .online)),
            .sessionHeld(
                SessionHeld(tandem: Fixture.t("t1"), on: BusinessDate(dayNumber: -719_529), minutes: 1, mode: .online)),
            .sessionHeld(
                SessionHeld(tandem: Fixture.t("t1"), on: BusinessDate(dayNumber: 2_932_896), minutes: 1, mode: .online)),
            .sessionHeld(
                SessionHeld(tandem: Fixture.t("t1"), on: BusinessDate(dayNumber: 2_932_897), minutes: 1, mode: .online)),
            .sessionHeld(
                SessionHeld(
                    tandem: Fixture.t("t1"), on: BusinessDate(dayNumber: Int(Int32.min)), minutes: 1, mode: .online)),
            .logCreated(logID: "log-1"),
            .unknown(type: "FromANewerVersion", data: ["x": .array([.null, .bool(true)]), "y": .double(1.5)]),
        ]
        for event in events {
            var expected = JSONWriter()
            expected.write(event.json)
            var direct = JSONWriter()
            direct.writeRaw("[")  // written after other bytes, as in a line
            event.writeData(to: &direct)
            #expect(direct.bytes == [UInt8(ascii: "[")] + expected.bytes, "\(event.type)")

            let at = Timestamp(secondsSinceEpoch: 1_800_000_000)
            var extras = JSONObject()
            extras["key"] = .string("k")
            var viaRecord: [UInt8] = [], viaWriter: [UInt8] = []
            LineEncoder.encodeBody(
                LogRecord(type: event.type, actor: "a\"b", at: at, data: event.json, extras: extras), into: &viaRecord)
            LineEncoder.encodeBody(type: event.type, actor: "a\"b", at: at, extras: extras, into: &viaWriter) {
                event.writeData(to: &$0)
            }
            #expect(viaWriter == viaRecord, "\(event.type)")
        }
    }

    @Test("keys in any order, with whitespace, nulls for absent optionals and unknown keys, read the same")
    func outOfOrder() throws {
        let random = SeededRandomSource(seed: 19)
        for event in Self.samples {
            let members = event.json.members.map { ($0.key, $0.value) }
            for _ in 0..<20 {
                var shuffled = members
                for i in shuffled.indices.reversed() where i > 0 {
                    shuffled.swapAt(i, Int(random.next(below: UInt64(i + 1))))
                }
                let at = Int(random.next(below: UInt64(shuffled.count + 1)))
                shuffled.insert(("fromANewerVersion", .array([.int(1), .object(["x": .null])])), at: at)
                var text = Self.text(shuffled)
                if random.next(below: 2) == 0 {
                    text = text.replacingOccurrences(of: ",\"", with: " ,\n\t\"").replacingOccurrences(
                        of: "\":", with: "\" : ")
                }
                #expect(try Self.decodeLine(Self.line(type: event.type, data: text)) == event, "\(text)")
            }
        }
        // An optional field given as null reads as absent.
        let bare = TandemMatched(
            tandem: Fixture.t("t1"), programme: Fixture.programme, mentor: Fixture.p("m1"), mentee: Fixture.p("e1"),
            on: Fixture.d("2027-01-03"))
        let withNulls =
            #"{"tandem":"t1","programme":"pilot","mentor":"m1","mentee":"e1","on":"2027-01-03","override":null,"overrideReason":null,"run":null}"#
        #expect(try Self.decodeLine(Self.line(type: TandemMatched.type, data: withNulls)) == .tandemMatched(bare))
    }

    @Test("a missing or ill-typed required field is refused, naming it")
    func refusals() throws {
        for event in Self.samples {
            for (key, _) in event.json.members {
                var object = event.json
                object[key] = nil
                let line = Self.line(type: event.type, data: JSONValue.object(object).description)
                let required = (try? ProgrammeEvent(type: event.type, data: object)) == nil
                if required {
                    #expect(throws: EventDecodingError.self, "\(event.type) without \(key)") {
                        try Self.decodeLine(line)
                    }
                    do {
                        _ = try Self.decodeLine(line)
                    } catch let error as EventDecodingError {
                        #expect(error.reason.contains("missing \"\(key)\""), "\(error)")
                        #expect(error.type == event.type)
                    }
                } else {
                    #expect(try Self.decodeLine(line) == (try ProgrammeEvent(type: event.type, data: object)))
                }
            }
        }
        let badDate = #"{"tandem":"t1","on":"2027-02-30","minutes":45,"mode":"online"}"#
        #expect(throws: EventDecodingError.self) { try Self.decodeLine(Self.line(type: "SessionHeld", data: badDate)) }
        let badID = #"{"tandem":"t 1","on":"2027-02-03","minutes":45,"mode":"online"}"#
        #expect(throws: EventDecodingError.self) { try Self.decodeLine(Self.line(type: "SessionHeld", data: badID)) }
    }

    @Test("the vault references of an event are every reference field its description lists")
    func references() {
        for event in Self.samples {
            let expected = event.json.members.compactMap { PersonalReference(json: $0.value) }
            #expect(Set(event.personalReferences) == Set(expected), "\(event.type)")
        }
    }

    @Test("every kind has an audit summary without names or texts")
    func summaries() {
        for event in Self.samples {
            let summary = event.auditSummary
            #expect(!summary.isEmpty)
            #expect(!summary.contains("legacy text") && !summary.contains("Pilot \""), "\(summary)")
        }
    }

    @Test("the programmes, tandems and people an event names come from its description, in field order")
    func subjects() {
        let swap = Self.samples.first { $0.type == PartnerSwapped.type }!
        #expect(swap.subjects.tandems == [Fixture.t("t1"), Fixture.t("t2")])
        #expect(swap.subjects.participants == [Fixture.p("e1"), Fixture.p("e2")])
        #expect(swap.subjects.programmes.isEmpty)
        let run = Self.samples.first { $0.type == MatchRunRecorded.type }!
        #expect(run.subjects.programmes == [Fixture.programme])
        #expect(run.subjects.participants == ["m1", "m2", "e1", "m1", "e1"].map(Fixture.p))
        let checkIn = Self.samples.first { $0.type == CheckInRecorded.type }!
        #expect(checkIn.subjects.tandems == [Fixture.t("t1")] && checkIn.subjects.participants == [Fixture.p("m1")])
        #expect(ProgrammeEvent.logCreated(logID: "x").subjects == EventSubjects())
    }

    @Test("the business date read from a line's bytes is the event's, for every kind")
    func businessDateFromBytes() {
        for event in Self.samples {
            let bytes = Self.line(type: event.type, data: JSONValue.object(event.json).description)
            bytes.withUnsafeBytes { raw in
                let line = LogLine(bytes: raw, offset: 0, seq: 3)
                for asOf in ["2026-12-31", "2027-01-03", "2027-02-01", "2027-12-31"].map({ BusinessDate($0)! }) {
                    let expected = event.businessDate.map { $0 > asOf } ?? false
                    #expect(Replay.datedAfter(line, asOf) == expected, "\(event.type) as of \(asOf)")
                }
                // The timeline's reading of the line: its kind and day, with one look at the type.
                let kind: Replay.LineKind
                switch event {
                case .eventVoided: kind = .void
                case .logCreated: kind = .logCreated
                default: kind = event.businessDate.map { .dated($0.dayNumber) } ?? .undated
                }
                #expect(Replay.kind(of: line) == kind, "\(event.type)")
            }
            #expect(Replay.datedTypes.contains(Array(event.type.utf8)) == (event.businessDate != nil), "\(event.type)")
        }
        let unreadable = Array(#"{"seq":3,"at":"2027-01-01T00:00:00Z","actor":"a","type":5}"#.utf8)
        unreadable.withUnsafeBytes { #expect(Replay.kind(of: LogLine(bytes: $0, offset: 0, seq: 3)) == .unreadable) }
    }
}
