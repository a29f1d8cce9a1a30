#if canImport(Glibc)
    import Glibc
#endif

/// The actuarial life table analysts get instead of a Kaplan–Meier curve: counts per
/// interval of the programme's cadence (at least 30 days), never per day, each count
/// published by the disclosure policy.
///
/// Per interval [start, end): `atRisk` people still observed at its start, `events` who
/// withdrew in it, `censored` whose observation ended in it. The curve multiplies
/// 1 − d / (n − c/2) over the intervals (censoring spread evenly over the interval), with
/// Greenwood's variance and the log(−log) interval of `KaplanMeier`. For analysts, an
/// interval is merged with the next until it holds at least k published dropouts and no
/// published censored count between 1 and k − 1; the table stops where fewer than k people
/// remain at risk or the last interval cannot be shown.
public enum LifeTable {
    /// One interval.
    public struct Row: Sendable, Equatable {
        public var start: Int
        public var end: Int
        public var atRisk: Int
        public var events: Int
        public var censored: Int
        /// The share still in the programme at `end`.
        public var survival: Double
        public var lower: Double
        public var upper: Double

        public init(
            start: Int, end: Int, atRisk: Int, events: Int, censored: Int, survival: Double, lower: Double,
            upper: Double
        ) {
            (self.start, self.end, self.atRisk, self.events, self.censored) = (start, end, atRisk, events, censored)
            (self.survival, self.lower, self.upper) = (survival, lower, upper)
        }
    }

    /// The interval width for a programme's cadence.
    public static func width(cadenceDays: Int) -> Int { max(30, cadenceDays) }

    /// The table of `observations`, all of `population`, as `policy` publishes it.
    /// - Returns: the rows, and whether rows were left out at the end (too few at risk).
    /// - Complexity: O(n + d log d + intervals · log d) for n observations on d distinct days.
    public static func estimate(
        _ observations: [KaplanMeier.Observation], width: Int, population: Population,
        policy: DisclosurePolicy, k: Int
    ) -> (rows: [Row], cut: Bool) {
        let tally = DurationTally(observations)
        guard let longest = tally.longest else { return ([], false) }
        var rows: [Row] = []
        var logSurvival = 0.0, greenwood = 0.0
        var start = 0
        while start <= longest {
            var end = start + width
            var counts: (n: Int, d: Int, c: Int)
            while true {
                let (s, e) = (start, end)
                let n = tally.lasting(atLeast: s)
                let d = tally.events(from: s, to: e), c = tally.censored(from: s, to: e)
                let tag = "\(s)-\(e)"
                counts = (
                    policy.count(n, in: population, "atRisk:\(s)"), policy.count(d, in: population, "events:" + tag),
                    policy.count(c, in: population, "censored:" + tag)
                )
                // An interval grows until it holds at least k published dropouts (a published 0
                // would flatten a curve whose dropouts are spread thinly over many intervals),
                // or reaches the end of the data.
                let thin = policy.protects && (counts.d < k || (counts.c > 0 && counts.c < k))
                guard thin, end <= longest else { break }
                end += width
            }
            if policy.protects && (counts.n < k || (counts.d > 0 && counts.d < k) || (counts.c > 0 && counts.c < k)) {
                return (rows, true)
            }
            let exposed = Double(counts.n) - Double(counts.c) / 2
            let events = min(Double(counts.d), max(0, exposed))
            if events > 0, exposed > 0 {
                logSurvival += log(max(exposed - events, 0)) - log(exposed)
                if exposed > events { greenwood += events / (exposed * (exposed - events)) }
            }
            let (lower, upper) = KaplanMeier.interval(logSurvival: logSurvival, variance: greenwood, z: KaplanMeier.z95)
            let survival = exp(logSurvival)
            rows.append(
                Row(
                    start: start, end: end, atRisk: counts.n, events: counts.d, censored: counts.c,
                    survival: survival, lower: survival == 0 ? 0 : lower, upper: upper))
            start = end
        }
        return (rows, false)
    }

    /// The day the curve reaches 0.5, interpolated linearly within its interval; nil if it
    /// never does.
    public static func median(_ rows: [Row]) -> Int? {
        var previous = 1.0
        for row in rows {
            if row.survival <= 0.5 {
                let share = previous == row.survival ? 1 : (previous - 0.5) / (previous - row.survival)
                return row.start + Int((share * Double(row.end - row.start)).rounded())
            }
            previous = row.survival
        }
        return nil
    }
}
