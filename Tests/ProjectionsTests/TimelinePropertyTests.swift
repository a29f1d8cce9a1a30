import EventLog
import Mentoring
import Projections
import TestSupport
import Testing

/// Histories with late-logged and backdated commands, decided against the real rules (many
/// are refused). Whatever was accepted must make sense on the business-date timeline.
@Suite("Timeline: every accepted history holds in business-date order")
struct TimelinePropertyTests {
    static func history(seed: UInt64) throws -> (HistoryGenerator, [RecordedEvent]) {
        var history = HistoryGenerator(seed: seed)
        history.backdating = true
        history.voids = false
        history.erasures = false
        history.run(steps: 400)
        var events: [RecordedEvent] = []
        try history.log.forEachLine { line in events.append(try EventDecoder.decode(line)) }
        return (history, events)
    }

    /// Business-date order: the launch first, then by date, ties by seq.
    static func dateOrder(_ events: [RecordedEvent]) -> [RecordedEvent] {
        events.sorted { a, b in
            let x = a.event.businessDate?.dayNumber ?? Int.min, y = b.event.businessDate?.dayNumber ?? Int.min
            return x != y ? x < y : a.seq < b.seq
        }
    }

    @Test("replayed in business-date order, every accepted event satisfies every rule", arguments: 0..<10)
    func rulesHoldInDateOrder(seed: UInt64) throws {
        let (history, events) = try Self.history(seed: 3000 + seed)
        #expect(history.refused > 0 && events.count > 150, "the generator must try backdated commands that are refused")
        var state = ProgrammeState()
        for recorded in Self.dateOrder(events) {
            do throws(DomainError) {
                if case .logCreated = recorded.event {} else { try state.validate(recorded.event) }
            } catch {
                Issue.record(
                    "seed \(seed): seq \(recorded.seq) (\(recorded.event.type), \(recorded.event.businessDate.map(String.init(describing:)) ?? "-")) breaks a rule in date order: \(error)"
                )
                return
            }
            state.apply(recorded, traits: recorded.event.personalReferences.first.flatMap { history.profiles[$0] })
        }
    }

    @Test("log-order and date-order projections agree at every as-of date", arguments: 0..<10)
    func ordersAgree(seed: UInt64) throws {
        let (history, events) = try Self.history(seed: 4000 + seed)
        let programme = history.programme
        let dates = Set(events.compactMap(\.event.businessDate)).sorted()
        for asOf in stride(from: 0, to: dates.count, by: max(1, dates.count / 25)).map({ dates[$0] }) + [dates.last!] {
            let window = events.filter { $0.event.businessDate.map { $0 <= asOf } ?? true }
            func fold(_ ordered: [RecordedEvent]) -> ProgrammeReadModel {
                var model = ProgrammeReadModel()
                for recorded in ordered {
                    model.apply(
                        recorded, traits: recorded.event.personalReferences.first.flatMap { history.profiles[$0] })
                }
                return model
            }
            let byLog = fold(window), byDate = fold(Self.dateOrder(window))
            // The replay of an as-of window, which leaves later-dated lines undecoded,
            // folds exactly the window.
            let replayed = try Replay.fold(history.log, profiles: history.profiles, window: ReplayWindow(asOf: asOf)) {
                ProgrammeReadModel()
            }
            #expect(replayed.fold == byLog, "seed \(seed), as of \(asOf): the windowed replay differs")
            #expect(replayed.head.seq == events.last!.seq, "the head is the log's last line, skipped or not")
            let a = StatsQuery.figures(byLog, programme: programme, segment: nil).0.stats
            let b = StatsQuery.figures(byDate, programme: programme, segment: nil).0.stats
            #expect(a == b, "seed \(seed), as of \(asOf): \(a) vs \(b)")
            // The same views, whatever order they were stored in.
            let tandems = (
                byLog.tandems.values.sorted { $0.id < $1.id }, byDate.tandems.values.sorted { $0.id < $1.id }
            )
            #expect(tandems.0 == tandems.1, "seed \(seed), as of \(asOf): tandems differ")
            let people = (byLog.people.values.sorted { $0.id < $1.id }, byDate.people.values.sorted { $0.id < $1.id })
            #expect(people.0 == people.1, "seed \(seed), as of \(asOf): people differ")
        }
    }

    @Test("a line's business date read from its bytes is the decoded one", arguments: 0..<4)
    func datesFromBytes(seed: UInt64) throws {
        var history = HistoryGenerator(seed: 4100 + seed)
        history.backdating = true
        history.run(steps: 300)
        var dated = 0
        try history.log.forEachLine { line in
            let event = try EventDecoder.decode(line).event
            for asOf in [BusinessDate("2027-01-01")!, BusinessDate("2027-02-15")!, BusinessDate("2027-06-30")!] {
                let expected = event.businessDate.map { $0 > asOf } ?? false
                #expect(Replay.datedAfter(line, asOf) == expected, "seq \(line.seq) \(event.type) as of \(asOf)")
            }
            if event.businessDate != nil { dated += 1 }
            // Exactly the dated types are listed as dated.
            #expect(
                Replay.datedTypes.contains(Array(event.type.utf8)) == (event.businessDate != nil), "\(event.type)")
        }
        #expect(dated > 100)
    }
}
