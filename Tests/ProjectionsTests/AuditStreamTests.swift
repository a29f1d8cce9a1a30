import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// The whole trail is streamed: a first pass keeps only which seqs belong to it, and
/// rendering reads those lines again. Checked against the trail worked out here from every
/// decoded line, in windows that leave gaps in it, in all three forms.
@Suite("Audit trail: streamed, the same entries as every line decoded")
struct AuditStreamTests {
    /// The trail of the whole log as the test computes it: every line recorded by
    /// `recordedBy`, up to `knownAt`, about a day up to `asOf`, recorded in `since...until`,
    /// with the seq of the void that voided it (if that void is in the trail too).
    static func expected(
        _ store: Store, window: ReplayWindow, since: BusinessDate?, until: BusinessDate?
    ) throws -> [[String: JSONValue]] {
        var decoded: [(RecordedEvent, String)] = []
        try store.events.forEachLine(from: 1, after: nil) { line in
            decoded.append((try EventDecoder.decode(line), line.hash.hex))
        }
        func inTrail(_ recorded: RecordedEvent) -> Bool {
            if let limit = window.knownAt, recorded.seq > limit { return false }
            if let cutoff = window.recordedBy, recorded.at > cutoff { return false }
            guard window.admits(recorded.event.businessDate) else { return false }
            let day = BusinessDate(recorded.at)
            return (since.map { day >= $0 } ?? true) && (until.map { day <= $0 } ?? true)
        }
        let kept = decoded.filter { inTrail($0.0) }
        // A void marks what it voided wherever the void itself falls, if it was known then.
        var voidedBy: [Int: Int] = [:]
        for (recorded, _) in decoded {
            if let limit = window.knownAt, recorded.seq > limit { continue }
            if let cutoff = window.recordedBy, recorded.at > cutoff { continue }
            if let target = recorded.event.voidTarget { voidedBy[target] = recorded.seq }
        }
        return kept.map { recorded, hash in
            [
                "seq": .int(Int64(recorded.seq)), "at": .string(recorded.at.rfc3339), "actor": .string(recorded.actor),
                "type": .string(recorded.event.type), "summary": .string(recorded.event.auditSummary),
                "voided": voidedBy[recorded.seq].map { .int(Int64($0)) } ?? .null, "hash": .string(hash),
            ]
        }
    }

    /// The trail printed as JSON holds `want`'s entries, in order, with their values.
    static func expectEntries(_ result: QueryResult, _ want: [[String: JSONValue]], _ label: String) throws {
        let json = try JSONScanner.parse(Array(try rendered(result, .json).utf8))
        let got = try #require(json.objectValue?["entries"]?.arrayValue).map { $0.objectValue! }
        #expect(got.count == want.count, "\(label)")
        for (entry, wanted) in zip(got, want) {
            for (key, value) in wanted { #expect(entry[key] == value, "\(label), seq \(wanted["seq"]!)") }
        }
    }

    static func rendered(_ result: QueryResult, _ format: Renderer.Format) throws -> String {
        var text = ""
        try Renderer.write(result, as: format) { text += $0 }
        return text
    }

    @Test("every form lists the trail a pass over the decoded lines finds, gaps and voids included", arguments: 0..<3)
    func streamedTrail(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 9300, steps: 220, backdating: true, in: directory)
        let head = try store.events.readHead()
        let input = try service.input(QueryService.Request(viewer: .auditor, today: AuditIndexTests.today))
        var voidsShown = 0
        let cases: [(ReplayWindow, BusinessDate?, BusinessDate?)] = [
            (.everything, nil, nil),
            (ReplayWindow(asOf: BusinessDate("2027-03-01")!), nil, nil),
            (ReplayWindow(knownAt: head.seq * 2 / 3), nil, nil),
            (.everything, BusinessDate("2026-09-01"), BusinessDate("2027-02-01")),
        ]
        for (window, since, until) in cases {
            let result = try AuditQuery.run(
                store.events, window: window, input: input,
                options: AuditQuery.Options(since: since, until: until))
            let want = try Self.expected(store, window: window, since: since, until: until)
            let list = try #require(result.stream, "the trail is streamed")
            #expect(list.count == want.count)
            let json = try JSONScanner.parse(Array(try Self.rendered(result, .json).utf8))
            let got = try #require(json.objectValue?["entries"]?.arrayValue).map { $0.objectValue! }
            #expect(got.count == want.count, "seed \(seed), \(window)")
            for (entry, wanted) in zip(got, want) {
                for (key, value) in wanted {
                    #expect(entry[key] == value, "seed \(seed), \(window), seq \(wanted["seq"]!)")
                }
            }
            voidsShown += want.filter { $0["voided"] != .null }.count
            // The table and CSV show the same rows, in the same order.
            let table = try Self.rendered(result, .table).split(separator: "\n")
            let csv = try Self.rendered(result, .csv).split(separator: "\r\n")
            #expect(csv.count == want.count + 1)
            #expect(table.count == (want.isEmpty ? 2 : want.count + 3))
            for (i, wanted) in want.enumerated() {
                let seq = String(wanted["seq"]!.intValue!)
                #expect(csv[i + 1].hasPrefix(seq + ","))
                #expect(table[i + 2].trimmingPrefix(while: { $0 == " " }).hasPrefix(seq + "  "))
                if let by = wanted["voided"]?.intValue {
                    #expect(table[i + 2].contains("[voided by seq \(by)]"))
                }
            }
        }
        #expect(voidsShown > 0, "seed \(seed): some voided entries are in the trails")
    }

    @Test(
        "the trail of everything by recording day or in a window reads only what the timeline cannot rule out",
        arguments: 0..<3)
    func narrowedByTimeline(seed: Int) throws {
        let directory = TemporaryDirectory()
        var (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 9500, steps: 220, backdating: true, in: directory)
        let head = try store.events.readHead()
        var recorded: [Timestamp] = []
        try store.events.forEachLine(from: 2, after: nil) { recorded.append(try EventDecoder.decode($0).at) }
        let days = Set(recorded.map { BusinessDate($0) }).sorted()
        let middle = days[days.count / 2], late = days[days.count * 3 / 4]
        let cutoff = recorded.sorted()[recorded.count * 2 / 3]
        // No timeline yet: the first such audit reads every line and writes one.
        try? FileSystem.remove(Timeline.file(store).path)
        let cases: [(ReplayWindow, BusinessDate?, BusinessDate?)] = [
            (.everything, middle, middle),
            (.everything, middle, middle),
            (.everything, nil, middle),
            (.everything, late, nil),
            (.everything, days[0].adding(days: -9), days[0].adding(days: -2)),
            (ReplayWindow(asOf: middle), nil, nil),
            (ReplayWindow(asOf: late), middle, late),
            (ReplayWindow(knownAt: head.seq * 2 / 3), middle, nil),
            (ReplayWindow(asOf: late, recordedBy: cutoff), nil, late),
        ]
        for (i, (window, since, until)) in cases.enumerated() {
            let request = QueryService.Request(
                viewer: .auditor, window: window, knownAt: window.knownAt.map { "seq:\($0)" },
                today: AuditIndexTests.today)
            let result = try service.audit(
                try service.input(request), window: window, options: AuditQuery.Options(since: since, until: until))
            let label = "seed \(seed), case \(i)"
            if i == 0 {
                #expect(result.linesRead == head.seq, "\(label): no timeline, every line")
                #expect(try Timeline.file(store).header(kind: Timeline.kind, schema: Timeline.schema).head == head)
            }
            if i == 1 { #expect(result.linesRead < head.seq / 2, "\(label): one day's lines and the voids") }
            try Self.expectEntries(result, try Self.expected(store, window: window, since: since, until: until), label)
        }
        // Lines appended after the timeline was read are read too.
        let stale = try #require(try Timeline.cached(store, head: head))
        history.run(steps: 40)
        try TimeTravelTests.append(history, after: head.seq, to: store)
        let now = try store.events.readHead()
        #expect(now.seq > head.seq + 20)
        let input = try service.input(QueryService.Request(viewer: .auditor, today: AuditIndexTests.today))
        let result = try AuditQuery.run(
            store.events, window: .everything, input: input, options: AuditQuery.Options(since: middle),
            index: nil, subjectModel: nil, collecting: nil,
            narrowedTo: (
                AuditQuery.narrowedRuns(stale, options: AuditQuery.Options(since: middle), window: .everything),
                stale.head
            ),
            observing: nil, voidsOfWholeLog: nil)
        let want = try Self.expected(store, window: .everything, since: middle, until: nil)
        #expect(want.contains { $0["seq"]!.intValue! > Int64(head.seq) }, "seed \(seed): the new lines are in it")
        let json = try JSONScanner.parse(Array(try Self.rendered(result, .json).utf8))
        let got = try #require(json.objectValue?["entries"]?.arrayValue).map { $0.objectValue!["seq"]! }
        #expect(got == want.map { $0["seq"]! }, "seed \(seed): after the timeline")
    }

    @Test(
        "the whole trail of everything reads no line to choose once the index and timeline are written, voids checked",
        arguments: 0..<3)
    func wholeTrailFromTimeline(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 9700, steps: 220, backdating: true, in: directory)
        let head = try store.events.readHead()
        try? FileSystem.remove(Timeline.file(store).path)
        try? FileSystem.remove(SubjectIndex.file(store).path)
        let want = try Self.expected(store, window: .everything, since: nil, until: nil)
        #expect(want.count == head.seq)
        #expect(want.contains { $0["voided"] != .null }, "seed \(seed): voids in the trail")
        for round in 0..<3 {
            let request = QueryService.Request(viewer: .auditor, today: AuditIndexTests.today)
            let result = try service.audit(
                try service.input(request), window: .everything, options: AuditQuery.Options())
            // The first pass reads every line (and writes the index and the timeline).
            #expect(result.linesRead == (round == 0 ? head.seq : 0), "seed \(seed), round \(round)")
            try Self.expectEntries(result, want, "seed \(seed), round \(round)")
        }
        // Voids that do not match the log (one left out, one made up) stop the printing.
        let timeline = try #require(try Timeline.cached(store, head: head))
        var targets: [Int: Int] = [:]
        for void in timeline.voids { targets[void.seq] = void.target }
        let input = try service.input(QueryService.Request(viewer: .auditor, today: AuditIndexTests.today))
        var missing = targets
        missing.removeValue(forKey: try #require(targets.keys.min()))
        var madeUp = targets
        madeUp[2] = 1
        for wrong in [missing, madeUp] {
            let result = try AuditQuery.run(
                store.events, window: .everything, input: input, options: AuditQuery.Options(), index: nil,
                subjectModel: nil, collecting: nil, narrowedTo: nil, observing: nil,
                voidsOfWholeLog: (wrong, head.seq))
            for format in Renderer.Format.allCases {
                #expect(throws: SnapshotError.self, "seed \(seed), \(format)") {
                    try Renderer.write(result, as: format, to: { _ in })
                }
            }
        }
    }

    @Test("a line damaged after the trail was chosen stops the printing with the error, in every form")
    func damageWhilePrinting() throws {
        let directory = TemporaryDirectory()
        let (_, store, service) = try TimeTravelTests.generated(seed: 9400, steps: 120, in: directory)
        let input = try service.input(QueryService.Request(viewer: .auditor, today: AuditIndexTests.today))
        let result = try AuditQuery.run(store.events, window: .everything, input: input, options: AuditQuery.Options())
        // A line in the middle made unreadable, its length kept.
        let path = store.root + "/events.jsonl"
        var bytes = try FileSystem.readFile(path)
        let newlines = bytes.indices.filter { bytes[$0] == 0x0A }
        let start = newlines[newlines.count / 2] + 1
        let colon = try #require(bytes[start...].firstIndex(of: UInt8(ascii: ":")))
        bytes[colon] = UInt8(ascii: ";")
        try FileSystem.replaceAtomically(path, with: bytes)
        for format in Renderer.Format.allCases {
            var printed = 0
            #expect(throws: (any Error).self, "\(format)") {
                try Renderer.write(result, as: format) { printed += $0.utf8.count }
            }
        }
    }

    @Test("runs of seqs: membership and count as a set's, on seeded random seqs")
    func seqRuns() {
        var generator = SeededGenerator(seed: 77)
        for _ in 0..<50 {
            var runs = AuditQuery.TrailSeqs()
            var set = Set<Int>()
            var seq = Int.random(in: 1...5, using: &generator)
            for _ in 0..<Int.random(in: 0...200, using: &generator) {
                runs.append(seq)
                set.insert(seq)
                seq += Int.random(in: 0...3, using: &generator) == 0 ? Int.random(in: 2...9, using: &generator) : 1
            }
            #expect(runs.count == set.count)
            #expect(runs.runs == SeqRuns.of(set.sorted()))
            for probe in 0...(seq + 2) { #expect(runs.contains(probe) == set.contains(probe), "seq \(probe)") }
        }
    }
}
