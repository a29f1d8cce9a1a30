import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// The timeline judges each line for a window from two day words: whatever it says for sure
/// must be what the line itself says, and it may be unsure only where the words cannot tell
/// (a cut-off inside the line's recording day). Its scans over many lines (a time-travel
/// plan's) must say what judging each line alone says.
@Suite("Timeline: a window's judgment of each line from its day words")
struct TimelineAdmissionTests {
    @Test("sure judgments are the lines' own; unsure only inside a cut-off's day; scans agree", arguments: 0..<4)
    func judgments(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, store, _) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 9600, steps: 200, backdating: true, in: directory)
        var timeline = Timeline()
        var decoder = EventDecoder()
        var lines: [LogLine] = []
        try store.events.forEachLine(from: 1, after: nil) { line in
            try timeline.append(line, decoder: &decoder)
            lines.append(line)
        }
        var generator = SeededGenerator(seed: UInt64(seed) &+ 77)
        let windows = try TimeTravelTests.windows(store, generator: &generator).map { window in
            var window = window
            window.knownAt = nil  // the timeline does not look at it
            return window
        }
        var sure = 0, unsure = 0
        for window in windows {
            let judge = Timeline.Judge(window)
            var expectedRuns: [ClosedRange<Int>] = []
            var firstNotAdmitted: Int?
            for line in lines {
                let admission = timeline.admission(line.seq, judge)
                #expect(admission == timeline.admission(line.seq, window))
                let admits =
                    Replay.kind(of: line) == .logCreated
                    || (!(window.asOf.map { Replay.datedAfter(line, $0) } ?? false)
                        && !(window.recordedBy.map { Replay.recordedAfter(line, $0) } ?? false))
                switch admission {
                case .admitted:
                    #expect(admits, "seed \(seed), \(window), seq \(line.seq): admitted, but the line is not")
                    sure += 1
                case .leftOut:
                    #expect(!admits, "seed \(seed), \(window), seq \(line.seq): left out, but the line is admitted")
                    sure += 1
                case .unsure:
                    // Only a cut-off inside the day the line was recorded on leaves it unsure.
                    let cutoff = try #require(window.recordedBy, "seed \(seed), \(window), seq \(line.seq)")
                    let day = try EventDecoder.decode(line).at.secondsSinceEpoch / 86400
                    #expect(
                        day == cutoff.secondsSinceEpoch / 86400 && cutoff.secondsSinceEpoch % 86400 != 86399,
                        "seed \(seed), \(window), seq \(line.seq): unsure of a line it can judge")
                    unsure += 1
                }
                if admission != .admitted, firstNotAdmitted == nil { firstNotAdmitted = line.seq }
                if admission != .leftOut { SeqRuns.append(line.seq, to: &expectedRuns) }
            }
            let head = lines.count
            #expect(timeline.firstNotAdmitted(from: 1, through: head, window) == (firstNotAdmitted ?? head + 1))
            #expect(timeline.runsNotLeftOut(from: 1, through: head, window) == expectedRuns, "\(window)")
            // From the middle on, and up to a line before the end.
            let middle = head / 2
            #expect(
                timeline.runsNotLeftOut(from: middle, through: head - 1, window)
                    == SeqRuns.of(expectedRuns.flatMap { Array($0) }.filter { $0 >= middle && $0 < head }))
        }
        #expect(sure > 0 && unsure > 0, "seed \(seed): \(sure) sure, \(unsure) unsure")
    }

    @Test(
        "a window's highest admitted words say what judging each word says, at every edge; the block scan finds the first line not admitted wherever it lies"
    )
    func highestWords() {
        let day = 20_500  // 2026-02-15
        let seconds = Int64(day) * 86400
        var windows: [ReplayWindow] = []
        for asOf in [nil, -3, -1, 0, day, 65_533, 65_534, 70_000] as [Int?] {
            for cutoff in [nil, -86400 * 2, seconds + 3600, seconds + 86399, Int64(65_534) * 86400 + 86399] as [Int64?]
            {
                windows.append(
                    ReplayWindow(
                        asOf: asOf.map { BusinessDate(dayNumber: $0) },
                        recordedBy: cutoff.map { Timestamp(secondsSinceEpoch: $0) }))
            }
        }
        var words: [UInt16] = [0, 1, 2, 3, 0xFFFD, 0xFFFE, 0xFFFF]
        for d in [day, 65_533, 65_534] { words += (d - 1...d + 2).map { UInt16(clamping: $0) } }
        for window in windows {
            let judge = Timeline.Judge(window)
            for business in words {
                for recorded in words {
                    let entry = UInt32(business) | UInt32(recorded) << 16
                    #expect(
                        judge.admitsForSure(entry)
                            == (judge.admission(business: business, recorded: recorded) == .admitted),
                        "\(window): business \(business), recorded \(recorded)")
                }
            }
        }
        // One line not admitted among 70, at every place in and across the blocks, scanned
        // from every start before it.
        let window = ReplayWindow(asOf: BusinessDate(dayNumber: day))
        let admitted = UInt32(day + 1) | UInt32(day + 5) << 16, later = UInt32(day + 2)
        for bad in 1...70 {
            let timeline = Timeline(entries: (1...70).map { $0 == bad ? later : admitted })
            for from in 1...bad {
                #expect(timeline.firstNotAdmitted(from: from, through: 70, window) == bad, "bad \(bad), from \(from)")
            }
            #expect(timeline.firstNotAdmitted(from: 1, through: bad - 1, window) == bad)
        }
        #expect(
            Timeline(entries: Array(repeating: admitted, count: 70)).firstNotAdmitted(from: 3, through: 70, window)
                == 71)
    }
}
