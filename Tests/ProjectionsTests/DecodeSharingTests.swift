import EventLog
import TestSupport
import Testing

@testable import Mentoring

/// A replay's lines are decoded on the reading thread, or handed over undecoded for the
/// folding thread to decode when it would otherwise wait. Whichever thread decodes a batch,
/// the fold sees the same events in the same order and ends at the same head.
@Suite("Decode sharing: the fold sees the same events whichever thread decodes them")
struct DecodeSharingTests {
    /// Every event a pipelined replay passes on, and its head.
    static func events(
        _ log: InMemoryLog, window: ReplayWindow, runs: [ClosedRange<Int>]?, sharing: DecodeSharing
    ) throws -> ([RecordedEvent], LogHead) {
        var seen: [RecordedEvent] = []
        let head = try Replay.pipelined(log, window: window, runs: runs, sharing: sharing, batchSize: 7) {
            seen.append($0)
        }
        return (seen, head)
    }

    @Test("every window and every run list, each batch decoded by either thread", arguments: 0..<4)
    func sameEvents(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed) &+ 9100)
        history.backdating = true
        history.run(steps: 220)
        let head = try history.log.readHead().seq
        var days: [BusinessDate] = []
        var recorded: [Timestamp] = []
        try history.log.forEachLine(from: 1, after: nil) { line in
            let event = try EventDecoder.decode(line)
            if let day = event.event.businessDate { days.append(day) }
            recorded.append(event.at)
        }
        days.sort()
        recorded.sort()
        let windows = [
            ReplayWindow.everything, ReplayWindow(asOf: days[days.count / 2]),
            ReplayWindow(recordedBy: recorded[recorded.count / 3]), ReplayWindow(knownAt: head / 2),
        ]
        for window in windows {
            for runs in [nil, [1...3, 10...40, (head / 2)...head]] as [[ClosedRange<Int>]?] {
                let (expected, expectedHead) = try Self.events(history.log, window: window, runs: runs, sharing: .never)
                #expect(expected.count > 14, "more than two batches of 7")
                for sharing in [DecodeSharing.always, .alternate, .adaptive] {
                    let (seen, seenHead) = try Self.events(history.log, window: window, runs: runs, sharing: sharing)
                    #expect(seen == expected, "seed \(seed), \(window), runs \(String(describing: runs)), \(sharing)")
                    #expect(seenHead == expectedHead)
                }
            }
        }
    }

    @Test(
        "each event the reading thread decodes is hinted to the fold sixteen events ahead (its slot), then eight (its row), within its batch; events the fold decodes are not"
    )
    func prefetchHintsAhead() throws {
        var history = HistoryGenerator(seed: 9150)
        history.run(steps: 220)
        let head = try history.log.readHead().seq
        #expect(head > 100, "several batches of 40")
        func calls(_ sharing: DecodeSharing, _ window: ReplayWindow) throws -> [String] {
            var calls: [String] = []
            _ = try Replay.pipelined(
                history.log, window: window, sharing: sharing, batchSize: 40,
                hints: { PrefetchHint(table: 1, hash: $0.seq) },
                prefetch: { hint, stage in calls.append("\(stage) \(hint.hash)") }
            ) { calls.append("apply \($0.seq)") }
            return calls
        }
        // An as-of window leaves out (undecoded, unhinted) the lines about later days.
        var lines: [(seq: Int, day: Int?)] = []
        try history.log.forEachLine(from: 1, after: nil) { lines.append(($0.seq, Replay.businessDay(of: $0))) }
        let days = lines.compactMap(\.day).sorted()
        let asOf = BusinessDate(dayNumber: days[days.count / 2])
        for window in [ReplayWindow.everything, ReplayWindow(asOf: asOf)] {
            let decoded = lines.map { line in line.day.map { $0 <= asOf.dayNumber } ?? true || window.asOf == nil }
            // Batches of 40 lines, seq 1 on, every one kept decoded by the reading thread.
            var expected: [String] = []
            for first in stride(from: 0, to: lines.count, by: 40) {
                let batch = Array(first..<min(first + 40, lines.count))
                for (i, n) in batch.enumerated() {
                    if i + 16 < batch.count, decoded[batch[i + 16]] {
                        expected.append("slot \(lines[batch[i + 16]].seq)")
                    }
                    if i + 8 < batch.count, decoded[batch[i + 8]] { expected.append("row \(lines[batch[i + 8]].seq)") }
                    if decoded[n] { expected.append("apply \(lines[n].seq)") }
                }
            }
            #expect(expected.contains { $0.hasPrefix("slot") } && decoded.contains(false) == (window.asOf != nil))
            #expect(try calls(.never, window) == expected, "\(window)")
        }
        #expect(try calls(.always, .everything) == (1...head).map { "apply \($0)" })
    }

    @Test("a line that cannot be decoded fails the replay on either thread, and nothing after it is folded")
    func undecodableLine() throws {
        var history = HistoryGenerator(seed: 9200)
        history.run(steps: 200)
        let target = try history.log.readHead().seq / 2
        #expect(target > 21, "the broken line is beyond three batches of 7")
        // The same lines with one event's body made unreadable (its chain still intact).
        let log = InMemoryLog()
        var broken = 0
        try history.log.forEachLine(from: 1, after: nil) { line in
            let entry = try line.entry()
            var data = entry.data
            if line.seq == target {
                broken = line.seq
                data = JSONObject([("unexpected", .string("field"))])
            }
            if line.seq == 1 {
                try log.initialize(actor: entry.actor, logID: "broken", at: entry.at)
            } else {
                _ = try log.append([LogRecord(type: entry.type, actor: entry.actor, at: entry.at, data: data)])
            }
        }
        #expect(broken == target)
        for sharing in [DecodeSharing.never, .always, .alternate] {
            var seen: [Int] = []
            #expect(throws: EventDecodingError.self, "\(sharing)") {
                _ = try Replay.pipelined(log, window: .everything, sharing: sharing, batchSize: 7) {
                    seen.append($0.seq)
                }
            }
            // Lines before it may be folded (up to the last batch handed over whole); none
            // at or after it is.
            #expect(seen == Array(1..<(seen.count + 1)) && seen.count < target, "\(sharing): \(seen.count) folded")
        }
    }
}
