import EventLog
import Foundation
import Projections
import TestSupport
import Testing

@Suite("Kaplan–Meier")
struct KaplanMeierTests {
    @Test("an observation is 8 bytes, its days clamped to 32 bits")
    func observationLayout() {
        // A million people's dropouts hold one each: the width is the query's memory.
        #expect(MemoryLayout<KaplanMeier.Observation>.stride == 8)
        var o = KaplanMeier.Observation(duration: Int(Int32.max) + 10, event: true)
        #expect(o.duration == Int(Int32.max))
        o.duration = -5
        #expect(o.duration == -5 && o.event)
        #expect(KaplanMeier.Observation(duration: 3, event: false) != KaplanMeier.Observation(duration: 3, event: true))
    }

    typealias O = KaplanMeier.Observation

    @Test("a hand-computed table: ties, and an event and a censoring on the same day")
    func handComputed() throws {
        // Durations 3, 3, 3*, 5, 8*, 8: at day 3 two events and one censoring among 6.
        let rows = KaplanMeier.estimate([
            O(duration: 3, event: true), O(duration: 3, event: true), O(duration: 3, event: false),
            O(duration: 5, event: true), O(duration: 8, event: false), O(duration: 8, event: true),
        ])
        #expect(rows.map(\.day) == [3, 5, 8])
        #expect(rows.map(\.atRisk) == [6, 3, 2])
        #expect(rows.map(\.events) == [2, 1, 1] && rows.map(\.censored) == [1, 0, 1])
        // S(3) = 4/6; S(5) = 4/6 · 2/3 = 4/9; S(8) = 4/9 · 1/2 = 2/9.
        #expect(
            abs(rows[0].survival - 4.0 / 6) < 1e-12 && abs(rows[1].survival - 4.0 / 9) < 1e-12
                && abs(rows[2].survival - 2.0 / 9) < 1e-12)
        // Greenwood at 3: 2/(6·4) = 1/12; log S = log(2/3).
        let v = log(2.0 / 3), se = (1.0 / 12).squareRoot()
        let lower = exp(-exp(log(-v) - KaplanMeier.z95 * se / v)), upper = exp(-exp(log(-v) + KaplanMeier.z95 * se / v))
        #expect(abs(rows[0].lower - lower) < 1e-12 && abs(rows[0].upper - upper) < 1e-12)
        #expect(rows[0].lower < rows[0].survival && rows[0].survival < rows[0].upper)
        #expect(KaplanMeier.median(rows) == 5)
    }

    @Test("a group with no events stays at 1, with no interval and no median")
    func noEvents() {
        let rows = KaplanMeier.estimate([
            O(duration: 10, event: false), O(duration: 30, event: false), O(duration: 30, event: false),
        ])
        #expect(rows.allSatisfy { $0.survival == 1 && $0.lower == 1 && $0.upper == 1 })
        #expect(rows.map(\.atRisk) == [3, 2])
        #expect(KaplanMeier.median(rows) == nil)
        #expect(KaplanMeier.estimate([]).isEmpty)
    }

    @Test("everyone drops out: the curve reaches 0 and so does its interval")
    func allEvents() {
        let rows = KaplanMeier.estimate([O(duration: 1, event: true), O(duration: 2, event: true)])
        #expect(rows.last?.survival == 0 && rows.last?.lower == 0 && rows.last?.upper == 0)
        #expect(KaplanMeier.median(rows) == 1)
    }

    /// lifelines' own numbers for a fixed sample (printed once by lifelines 0.30.3), so the
    /// agreement is checked even where lifelines cannot be installed.
    @Test("agrees with lifelines' published output for a fixed sample")
    func recordedLifelines() {
        let durations = [5, 5, 7, 8, 8, 8, 10, 12, 15, 15, 20], events = [1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 1]
        let rows = KaplanMeier.estimate(zip(durations, events).map { O(duration: $0, event: $1 == 1) })
        let expected: [(Int, Double, Double, Double)] = [
            (5, 0.909091, 0.508080, 0.986674), (7, 0.808081, 0.423496, 0.948523), (8, 0.606061, 0.258043, 0.831000),
            (10, 0.606061, 0.258043, 0.831000), (12, 0.454545, 0.128542, 0.738578), (15, 0.303030, 0.049866, 0.621635),
            (20, 0, 0, 0),
        ]
        for ((day, s, lo, up), row) in zip(expected, rows) {
            #expect(
                row.day == day && abs(row.survival - s) < 1e-6 && abs(row.lower - lo) < 1e-6
                    && abs(row.upper - up) < 1e-6, "day \(day)")
        }
        #expect(KaplanMeier.median(rows) == 12)
    }

    @Test("agrees with lifelines to 1e-6 on random samples", .enabled(if: ReferenceTools.pythonHas("lifelines")))
    func againstLifelines() throws {
        var generator = SeededGenerator(seed: 77)
        var samples: [[KaplanMeier.Observation]] = []
        for _ in 0..<40 {
            let n = Int.random(in: 1...120, using: &generator)
            samples.append(
                (0..<n).map { _ in
                    O(
                        duration: Int.random(in: 0...60, using: &generator),
                        event: Int.random(in: 0..<3, using: &generator) > 0)
                })
        }
        // One Python process for every sample: importing lifelines takes a second.
        let script = """
            import json, sys
            from lifelines import KaplanMeierFitter
            results = []
            for data in json.load(sys.stdin):
                k = KaplanMeierFitter().fit(data["d"], data["e"])
                s = k.survival_function_.iloc[:, 0]; ci = k.confidence_interval_
                m = k.median_survival_time_
                results.append({"rows": {str(int(t)): [s.loc[t], ci.iloc[i, 0], ci.iloc[i, 1]] for i, t in enumerate(s.index)},
                                "median": None if m == float("inf") else m})
            print(json.dumps(results))
            """
        let input =
            "["
            + samples.map { sample in
                "{\"d\": [\(sample.map { String($0.duration) }.joined(separator: ","))], \"e\": [\(sample.map { $0.event ? "1" : "0" }.joined(separator: ","))]}"
            }.joined(separator: ",") + "]"
        let outcome = try ReferenceTools.runPython(script, stdin: input)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let results = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
        try #require(results.count == samples.count)
        for (index, (sample, result)) in zip(samples, results).enumerated() {
            let rows = KaplanMeier.estimate(sample)
            let reference = try #require(result["rows"] as? [String: [Double]])
            for row in rows {
                let values = try #require(reference[String(row.day)], "sample \(index), day \(row.day)")
                #expect(
                    abs(row.survival - values[0]) < 1e-6 && abs(row.lower - values[1]) < 1e-6
                        && abs(row.upper - values[2]) < 1e-6,
                    "sample \(index), day \(row.day): \(row) vs \(values)")
            }
            let median = KaplanMeier.median(rows)
            if let m = result["median"] as? Double {
                #expect(median.map(Double.init) == m, "sample \(index)")
            } else {
                #expect(median == nil)
            }
        }
    }
}

@Suite("Life table: hand-computed intervals")
struct LifeTableTests {
    @Test("exact counts over 30-day intervals, censoring spread over each interval")
    func handComputed() {
        // Events at 31 and 64; censored at 45, 59, 74, 74 and six at 81.
        let observations =
            [(31, true), (64, true), (45, false), (59, false), (74, false), (74, false)].map {
                KaplanMeier.Observation(duration: $0.0, event: $0.1)
            }
            + Array(repeating: KaplanMeier.Observation(duration: 81, event: false), count: 6)
        let rows = LifeTable.estimate(observations, width: 30, population: Population(size: 12), policy: .exact, k: 3)
            .rows
        #expect(rows.map(\.start) == [0, 30, 60])
        #expect(rows.map(\.atRisk) == [12, 12, 9])
        #expect(rows.map(\.events) == [0, 1, 1])
        #expect(rows.map(\.censored) == [0, 2, 8])
        // 1 − 1/(12 − 2/2) = 10/11; then × (1 − 1/(9 − 8/2)) = 4/5.
        #expect(abs(rows[1].survival - 10.0 / 11) < 1e-12)
        #expect(abs(rows[2].survival - 10.0 / 11 * 4 / 5) < 1e-12)
        // Greenwood: 1/(11·10) + 1/(5·4), through the log(−log) transform.
        let v = 1.0 / 110 + 1.0 / 20
        let logS = log(10.0 / 11 * 4 / 5)
        let spread = KaplanMeier.z95 * v.squareRoot() / logS
        #expect(abs(rows[2].lower - exp(-exp(log(-logS) - spread))) < 1e-12)
        #expect(LifeTable.median(rows) == nil)
    }

    @Test("a duration on an interval's start counts in that interval, at risk from it on")
    func boundaries() {
        // Events at 30 and 60; censored at 0, 30, 60 and five at 90.
        let observations =
            [(30, true), (60, true), (0, false), (30, false), (60, false)].map {
                KaplanMeier.Observation(duration: $0.0, event: $0.1)
            }
            + Array(repeating: KaplanMeier.Observation(duration: 90, event: false), count: 5)
        let rows = LifeTable.estimate(observations, width: 30, population: Population(size: 10), policy: .exact, k: 3)
            .rows
        #expect(rows.map(\.start) == [0, 30, 60, 90])
        #expect(rows.map(\.atRisk) == [10, 9, 7, 5])
        #expect(rows.map(\.events) == [0, 1, 1, 0])
        #expect(rows.map(\.censored) == [1, 1, 1, 5])
        // 1 − 1/(9 − 1/2), then × (1 − 1/(7 − 1/2)).
        #expect(abs(rows[3].survival - 7.5 / 8.5 * 5.5 / 6.5) < 1e-12)
    }

    @Test("the median is interpolated within the interval where the curve crosses one half")
    func median() {
        let rows = [
            LifeTable.Row(start: 0, end: 30, atRisk: 10, events: 4, censored: 0, survival: 0.6, lower: 0, upper: 1),
            LifeTable.Row(start: 30, end: 60, atRisk: 6, events: 3, censored: 0, survival: 0.3, lower: 0, upper: 1),
        ]
        // From 0.6 to 0.3 over 30 days: 0.5 is a third of the way, day 40.
        #expect(LifeTable.median(rows) == 40)
    }
}
