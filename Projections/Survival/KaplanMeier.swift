#if canImport(Glibc)
    import Glibc
#endif

/// The Kaplan–Meier estimate of a survival curve, with the 95% interval of the log(−log)
/// transform and Greenwood's variance: the same arithmetic as lifelines'
/// `KaplanMeierFitter` defaults, so the two agree to rounding.
public enum KaplanMeier {
    /// One subject: how long they were observed, and whether the event (a dropout) ended it.
    public struct Observation: Sendable, Equatable {
        /// Days, held in 32 bits (clamped): 8 bytes an observation, not 16; a programme's
        /// dropouts hold one for each of a million people.
        private var days: Int32
        public var event: Bool
        /// How many days the subject was observed.
        public var duration: Int {
            get { Int(days) }
            set { days = Int32(clamping: newValue) }
        }
        public init(duration: Int, event: Bool) {
            self.days = Int32(clamping: duration)
            self.event = event
        }
    }

    /// One row per distinct time with an event or a censoring.
    public struct Row: Sendable, Equatable {
        public var day: Int
        /// Subjects still observed just before `day`.
        public var atRisk: Int
        public var events: Int
        public var censored: Int
        public var survival: Double
        public var lower: Double
        public var upper: Double
    }

    /// z for a two-sided 95% interval: the 0.975 quantile of the standard normal.
    public static let z95 = 1.959963984540054

    /// The curve.
    /// - Complexity: O(n log n).
    public static func estimate(_ observations: [Observation], z: Double = z95) -> [Row] {
        let tally = DurationTally(observations)
        var atRisk = observations.count
        var logSurvival = 0.0
        var greenwood = 0.0
        var rows: [Row] = []
        for (i, day) in tally.days.enumerated() {
            let events = tally.events[i], censored = tally.censored[i]
            if events > 0 {
                logSurvival += log(Double(atRisk - events)) - log(Double(atRisk))
                // d / (n (n − d)); lifelines replaces the infinite term (n = d) by 0.
                if atRisk > events { greenwood += Double(events) / (Double(atRisk) * Double(atRisk - events)) }
            }
            let survival = exp(logSurvival)
            let (lower, upper) = interval(logSurvival: logSurvival, variance: greenwood, z: z)
            rows.append(
                Row(
                    day: day, atRisk: atRisk, events: events, censored: censored, survival: survival, lower: lower,
                    upper: upper))
            atRisk -= events + censored
        }
        return rows
    }

    /// exp(−exp(log(−log S) ∓ z √V / log S)), and 1 where that is undefined (S = 1), as
    /// lifelines does with `fillna(1.0)`.
    static func interval(logSurvival v: Double, variance: Double, z: Double) -> (Double, Double) {
        let spread = z * variance.squareRoot() / v
        let lower = exp(-exp(log(-v) - spread))
        let upper = exp(-exp(log(-v) + spread))
        return (lower.isNaN ? 1 : lower, upper.isNaN ? 1 : upper)
    }

    /// The first time the curve falls to 0.5 or below; nil if it never does.
    public static func median(_ rows: [Row]) -> Int? {
        rows.first { $0.survival <= 0.5 }?.day
    }
}
