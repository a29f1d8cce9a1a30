import EventLog
import Foundation
import Projections
import TestSupport
import Testing

@Suite("Log-rank test and χ² tail")
struct LogRankTests {
    typealias O = KaplanMeier.Observation

    @Test("χ² upper tail against published quantiles")
    func chiSquared() {
        #expect(abs(ChiSquared.survival(3.841458820694124, degreesOfFreedom: 1) - 0.05) < 1e-12)
        #expect(abs(ChiSquared.survival(5.991464547107979, degreesOfFreedom: 2) - 0.05) < 1e-12)
        #expect(abs(ChiSquared.survival(1, degreesOfFreedom: 1) - 0.31731050786291415) < 1e-12)
        #expect(abs(ChiSquared.survival(20, degreesOfFreedom: 4) - 0.0004993992273725) < 1e-12)
        // df = 2 has the closed form e^(−x/2).
        for x in [0.1, 1.0, 3.0, 10.0, 40.0] {
            #expect(abs(ChiSquared.survival(x, degreesOfFreedom: 2) - exp(-x / 2)) < 1e-14)
        }
        #expect(ChiSquared.survival(0, degreesOfFreedom: 3) == 1)
    }

    @Test("two groups, hand-computed: one dropout each at different times")
    func handComputed() throws {
        // A: events at 1 and 3, n = 2. B: event at 2, censored at 4, n = 2.
        // t=1: n=(2,2), d=1: E_A = 1/2, V = 1·(3/3)·(2·2)/16 = 1/4.
        // t=2: n=(1,2), d=1: E_A = 1/3, V = (2/2)·1·(1·2)/9 = 2/9.
        // t=3: n=(1,1), d=1: E_A = 1/2, V = 1/4.
        // O_A − E_A = 2 − 4/3 = 2/3; V = 13/18; χ² = (4/9)/(13/18) = 8/13.
        let result = try #require(
            LogRank.test([
                [O(duration: 1, event: true), O(duration: 3, event: true)],
                [O(duration: 2, event: true), O(duration: 4, event: false)],
            ]))
        #expect(abs(result.statistic - 8.0 / 13) < 1e-12 && result.degreesOfFreedom == 1)
        #expect(abs(result.p - ChiSquared.survival(8.0 / 13, degreesOfFreedom: 1)) < 1e-15)
        #expect(LogRank.test([[O(duration: 1, event: true)]]) == nil)
    }

    @Test(
        "agrees with lifelines' multivariate_logrank_test to 1e-6 on 2 to 5 groups",
        .enabled(if: ReferenceTools.pythonHas("lifelines")))
    func againstLifelines() throws {
        var generator = SeededGenerator(seed: 1818)
        var samples: [[[O]]] = []
        for _ in 0..<30 {
            let groups = Int.random(in: 2...5, using: &generator)
            samples.append(
                (0..<groups).map { g in
                    (0..<Int.random(in: 3...60, using: &generator)).map { _ in
                        // Ties (durations from a small range), censoring, and groups that differ.
                        O(
                            duration: Int.random(in: 0...(20 + 10 * g), using: &generator),
                            event: Int.random(in: 0..<3, using: &generator) > 0)
                    }
                })
        }
        let script = """
            import json, sys
            from lifelines.statistics import multivariate_logrank_test
            out = []
            for sample in json.load(sys.stdin):
                d, g, e = [], [], []
                for i, group in enumerate(sample):
                    for duration, event in group:
                        d.append(duration); g.append(i); e.append(event)
                r = multivariate_logrank_test(d, g, e)
                out.append([r.test_statistic, r.p_value])
            print(json.dumps(out))
            """
        let input =
            "["
            + samples.map { sample in
                "["
                    + sample.map { group in
                        "[" + group.map { "[\($0.duration),\($0.event ? 1 : 0)]" }.joined(separator: ",") + "]"
                    }.joined(separator: ",") + "]"
            }.joined(separator: ",") + "]"
        let outcome = try ReferenceTools.runPython(script, stdin: input)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[Double]])
        for (index, (sample, expected)) in zip(samples, reference).enumerated() {
            let result = try #require(LogRank.test(sample))
            #expect(
                abs(result.statistic - expected[0]) < 1e-6 * max(1, expected[0]),
                "sample \(index): \(result.statistic) vs \(expected[0])")
            #expect(abs(result.p - expected[1]) < 1e-6, "sample \(index): p \(result.p) vs \(expected[1])")
            #expect(result.degreesOfFreedom == sample.count - 1)
        }
    }
}
