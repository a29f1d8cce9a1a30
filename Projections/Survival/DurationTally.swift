/// How many observations end on each distinct day, dropouts and censorings apart, with
/// running totals, so that "how many last at least s days" and "how many end in [s, e)" are
/// binary searches: a table of the distinct days (a few thousand) in place of the copies of
/// a million observations that grouping or filtering them made (`dropouts` on the 10M store
/// held 60 MB of them, and an analyst's life table filtered every observation three times
/// per interval).
struct DurationTally: Sendable {
    /// The distinct durations, ascending.
    private(set) var days: [Int] = []
    /// Per day of `days`: its dropouts and its censorings.
    private(set) var events: [Int] = []
    private(set) var censored: [Int] = []
    /// Dropouts and censorings on `days[0..<i]`, at `i` (one more entry than `days`).
    private var eventsBefore: [Int] = [0]
    private var censoredBefore: [Int] = [0]
    /// How many observations there are.
    let count: Int

    /// - Complexity: O(n + d log d) for n observations on d distinct days.
    init(_ observations: [KaplanMeier.Observation]) {
        var tally: [Int: (events: Int, censored: Int)] = [:]
        for observation in observations {
            if observation.event {
                tally[observation.duration, default: (0, 0)].events += 1
            } else {
                tally[observation.duration, default: (0, 0)].censored += 1
            }
        }
        days = tally.keys.sorted()
        for day in days {
            let (e, c) = tally[day]!
            events.append(e)
            censored.append(c)
            eventsBefore.append(eventsBefore.last! + e)
            censoredBefore.append(censoredBefore.last! + c)
        }
        count = observations.count
    }

    /// The longest duration, if any.
    var longest: Int? { days.last }

    /// How many last at least `day` days (duration ≥ day).
    func lasting(atLeast day: Int) -> Int {
        let i = position(day)
        return count - eventsBefore[i] - censoredBefore[i]
    }

    /// Dropouts with a duration in `start..<end`.
    func events(from start: Int, to end: Int) -> Int {
        end <= start ? 0 : eventsBefore[position(end)] - eventsBefore[position(start)]
    }

    /// Censorings with a duration in `start..<end`.
    func censored(from start: Int, to end: Int) -> Int {
        end <= start ? 0 : censoredBefore[position(end)] - censoredBefore[position(start)]
    }

    /// The index of the first day ≥ `day` (`days.count` if none).
    private func position(_ day: Int) -> Int {
        var low = 0, high = days.count
        while low < high {
            let mid = (low + high) / 2
            if days[mid] < day { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
