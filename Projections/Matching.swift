import Mentoring

/// Finds the best tandems for a pool: hard rules first, then a score in [0, 1] for every
/// eligible pair, then the assignment that maximises the total score (Kuhn–Munkres).
public enum Matching {
    /// The score's weights; they sum to 1.
    public struct Weights: Sendable, Equatable {
        /// The mentor offers what the mentee wants.
        public var skills = 0.5
        /// Shared interests, for rapport.
        public var interests = 0.2
        /// A different generation.
        public var generation = 0.1
        /// A gap in hierarchy levels (full weight at 5 levels or more).
        public var levelGap = 0.1
        /// Different genders, where both gave one.
        public var gender = 0.1

        public init() {}

        public var json: [String: Double] {
            [
                "skills": skills, "interests": interests, "generation": generation, "levelGap": levelGap,
                "gender": gender,
            ]
        }
    }

    /// Someone in the pool, with the profile the rules and the score need.
    public struct Candidate: Sendable {
        public var id: ParticipantID
        public var profile: Profile
        public var formerPartners: Set<ParticipantID>
        public init(id: ParticipantID, profile: Profile, formerPartners: Set<ParticipantID> = []) {
            self.id = id
            self.profile = profile
            self.formerPartners = formerPartners
        }
    }

    /// A proposed or possible tandem.
    public struct Pair: Sendable, Equatable {
        public var mentor: ParticipantID
        public var mentee: ParticipantID
        public var score: Double
        public var reasons: [String]
    }

    /// Why someone was left without a partner.
    public enum Unmatched: String, Sendable {
        /// The rules allow no one in the pool.
        case noEligiblePartner = "no eligible partner"
        /// Every eligible partner went to someone else.
        case outnumbered
    }

    public struct Proposal: Sendable {
        public var pairs: [Pair]
        public var total: Double
        public var unmatchedMentors: [(ParticipantID, Unmatched)]
        public var unmatchedMentees: [(ParticipantID, Unmatched)]
        /// Every eligible pair with its score, so anyone can check optimality.
        public var candidates: [Pair]
    }

    /// Whether a mentor and a mentee may be paired: different units (unless allowed),
    /// never partners before, and the mentor the junior: a lower level, or at the same level
    /// born later. Reverse mentoring means the junior teaches.
    public static func eligible(_ mentor: Candidate, _ mentee: Candidate, allowSameUnit: Bool) -> Bool {
        if !allowSameUnit && Field.normalised(mentor.profile.unit) == Field.normalised(mentee.profile.unit) {
            return false
        }
        if mentor.formerPartners.contains(mentee.id) || mentee.formerPartners.contains(mentor.id) { return false }
        if mentor.profile.level != mentee.profile.level { return mentor.profile.level < mentee.profile.level }
        return mentor.profile.born > mentee.profile.born
    }

    /// The score of an eligible pair and its reasons, as short phrases.
    public static func score(
        _ mentor: Candidate, _ mentee: Candidate, weights: Weights = Weights()
    ) -> (Double, [String]) {
        let prepared = Prepared(mentors: [mentor], mentees: [mentee])
        return (prepared.score(0, 0, weights), prepared.reasons(0, 0))
    }

    /// Profiles reduced to bitsets and numbers, so that a million pairs score fast.
    struct Prepared {
        var vocabulary: [String] = []
        var index: [String: Int] = [:]
        var offers: [[UInt64]] = [], wants: [[UInt64]] = [], interestsM: [[UInt64]] = [], interestsE: [[UInt64]] = []
        var wantsCount: [Int] = [], interestsMCount: [Int] = [], interestsECount: [Int] = []
        /// Per person: unit and gender as small numbers (normalised once, not per pair),
        /// generation, level and birth year.
        var mentorUnit: [Int] = [], menteeUnit: [Int] = [], mentorGender: [Int] = [], menteeGender: [Int] = []
        var mentorGeneration: [Generation] = [], menteeGeneration: [Generation] = []
        var mentorLevel: [Int] = [], menteeLevel: [Int] = [], mentorBorn: [Int] = [], menteeBorn: [Int] = []
        var mentorHasFormer: [Bool] = [], menteeHasFormer: [Bool] = []
        let mentors: [Candidate], mentees: [Candidate]

        init(mentors: [Candidate], mentees: [Candidate]) {
            self.mentors = mentors
            self.mentees = mentees
            var codes: [String: Int] = [:]
            func code(_ text: String?) -> Int {
                guard let text else { return -1 }
                let key = Field.normalised(text)
                if let c = codes[key] { return c }
                codes[key] = codes.count
                return codes.count - 1
            }
            mentorUnit = mentors.map { code($0.profile.unit) }
            menteeUnit = mentees.map { code($0.profile.unit) }
            mentorGender = mentors.map { code($0.profile.gender) }
            menteeGender = mentees.map { code($0.profile.gender) }
            mentorGeneration = mentors.map(\.profile.generation)
            menteeGeneration = mentees.map(\.profile.generation)
            mentorLevel = mentors.map(\.profile.level)
            menteeLevel = mentees.map(\.profile.level)
            mentorBorn = mentors.map(\.profile.born)
            menteeBorn = mentees.map(\.profile.born)
            mentorHasFormer = mentors.map { !$0.formerPartners.isEmpty }
            menteeHasFormer = mentees.map { !$0.formerPartners.isEmpty }
            for c in mentors + mentees {
                for item in c.profile.offers + c.profile.wants + c.profile.interests {
                    let key = Field.normalised(item)
                    if index[key] == nil {
                        index[key] = vocabulary.count
                        vocabulary.append(item.trimmed)
                    }
                }
            }
            let words = max(1, (vocabulary.count + 63) / 64)
            func bits(_ items: [String]) -> [UInt64] {
                var b = [UInt64](repeating: 0, count: words)
                for item in items {
                    let i = index[Field.normalised(item)]!
                    b[i / 64] |= 1 << UInt64(i % 64)
                }
                return b
            }
            offers = mentors.map { bits($0.profile.offers) }
            interestsM = mentors.map { bits($0.profile.interests) }
            wants = mentees.map { bits($0.profile.wants) }
            interestsE = mentees.map { bits($0.profile.interests) }
            wantsCount = wants.map { $0.reduce(0) { $0 + $1.nonzeroBitCount } }
            interestsMCount = interestsM.map { $0.reduce(0) { $0 + $1.nonzeroBitCount } }
            interestsECount = interestsE.map { $0.reduce(0) { $0 + $1.nonzeroBitCount } }
        }

        func common(_ a: [UInt64], _ b: [UInt64]) -> Int {
            var n = 0
            for i in a.indices { n += (a[i] & b[i]).nonzeroBitCount }
            return n
        }

        func members(_ a: [UInt64], _ b: [UInt64]) -> [String] {
            vocabulary.indices.filter { i in (a[i / 64] & b[i / 64]) & (1 << UInt64(i % 64)) != 0 }.map {
                vocabulary[$0]
            }
        }

        /// `eligible`, on the prepared numbers.
        func eligible(_ m: Int, _ e: Int, allowSameUnit: Bool) -> Bool {
            if !allowSameUnit && mentorUnit[m] == menteeUnit[e] { return false }
            if mentorHasFormer[m] && mentors[m].formerPartners.contains(mentees[e].id) { return false }
            if menteeHasFormer[e] && mentees[e].formerPartners.contains(mentors[m].id) { return false }
            if mentorLevel[m] != menteeLevel[e] { return mentorLevel[m] < menteeLevel[e] }
            return mentorBorn[m] > menteeBorn[e]
        }

        func score(_ m: Int, _ e: Int, _ w: Weights) -> Double {
            let skill = wantsCount[e] == 0 ? 0 : Double(common(offers[m], wants[e])) / Double(wantsCount[e])
            let shared = common(interestsM[m], interestsE[e])
            let union = interestsMCount[m] + interestsECount[e] - shared
            let interest = union == 0 ? 0 : Double(shared) / Double(union)
            let generation: Double = mentorGeneration[m] != menteeGeneration[e] ? 1 : 0
            let gap = Double(min(5, abs(menteeLevel[e] - mentorLevel[m]))) / 5
            let gender: Double =
                mentorGender[m] >= 0 && menteeGender[e] >= 0 && mentorGender[m] != menteeGender[e] ? 1 : 0
            return w.skills * skill + w.interests * interest + w.generation * generation + w.levelGap * gap + w.gender
                * gender
        }

        func reasons(_ m: Int, _ e: Int) -> [String] {
            let mentor = mentors[m].profile, mentee = mentees[e].profile
            var out: [String] = []
            let skills = members(offers[m], wants[e])
            if !skills.isEmpty { out.append("offers \(skills.joined(separator: ", ")) that the mentee wants") }
            let interests = members(interestsM[m], interestsE[e])
            if !interests.isEmpty { out.append("shares \(interests.joined(separator: ", "))") }
            if mentor.generation != mentee.generation {
                out.append("\(mentor.generation.rawValue) × \(mentee.generation.rawValue)")
            }
            let gap = mentee.level - mentor.level
            if gap > 0 { out.append("\(gap) level\(gap == 1 ? "" : "s") apart") }
            if let a = mentor.gender, let b = mentee.gender, Field.normalised(a) != Field.normalised(b) {
                out.append("different genders")
            }
            return out
        }
    }

    /// The optimal proposal for a pool.
    /// - Complexity: O(n³) for n = max(mentors, mentees); O(n²) to score.
    public static func propose(
        mentors: [Candidate], mentees: [Candidate], allowSameUnit: Bool = false,
        weights: Weights = Weights(), listCandidates: Bool = true
    ) -> Proposal {
        let mentors = mentors.sorted { $0.id < $1.id }, mentees = mentees.sorted { $0.id < $1.id }
        let prepared = Prepared(mentors: mentors, mentees: mentees)
        let rows = mentors.count, cols = mentees.count
        // Weights: score in millionths, scaled so that one more pair only ever breaks a tie.
        let scale = Int64(max(rows, cols) + 1)
        var weight = [Int64](repeating: 0, count: rows * cols)
        var scores = [Double](repeating: 0, count: rows * cols)
        var eligibleMentor = [Bool](repeating: false, count: rows),
            eligibleMentee = [Bool](repeating: false, count: cols)
        var candidates: [Pair] = []
        for m in 0..<rows {
            for e in 0..<cols where prepared.eligible(m, e, allowSameUnit: allowSameUnit) {
                let s = prepared.score(m, e, weights)
                scores[m * cols + e] = s
                weight[m * cols + e] = Int64((s * 1_000_000).rounded()) * scale + 1
                eligibleMentor[m] = true
                eligibleMentee[e] = true
                if listCandidates {
                    candidates.append(Pair(mentor: mentors[m].id, mentee: mentees[e].id, score: round4(s), reasons: []))
                }
            }
        }
        let assignment = maximumWeightAssignment(weight, rows: rows, cols: cols)
        var pairs: [Pair] = []
        var takenMentor = [Bool](repeating: false, count: rows), takenMentee = [Bool](repeating: false, count: cols)
        var total = 0.0
        for (m, e) in assignment where weight[m * cols + e] > 0 {
            let s = scores[m * cols + e]
            pairs.append(
                Pair(mentor: mentors[m].id, mentee: mentees[e].id, score: round4(s), reasons: prepared.reasons(m, e)))
            takenMentor[m] = true
            takenMentee[e] = true
            total += s
        }
        pairs.sort { ($0.mentor, $0.mentee) < ($1.mentor, $1.mentee) }
        let unmatchedMentors = (0..<rows).filter { !takenMentor[$0] }.map {
            (mentors[$0].id, eligibleMentor[$0] ? Unmatched.outnumbered : .noEligiblePartner)
        }
        let unmatchedMentees = (0..<cols).filter { !takenMentee[$0] }.map {
            (mentees[$0].id, eligibleMentee[$0] ? Unmatched.outnumbered : .noEligiblePartner)
        }
        return Proposal(
            pairs: pairs, total: round4(total), unmatchedMentors: unmatchedMentors, unmatchedMentees: unmatchedMentees,
            candidates: candidates)
    }

    static func round4(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

    /// Kuhn–Munkres with potentials (the O(n²m) shortest-augmenting-path form): the
    /// assignment of rows to columns with the largest total weight. Rectangular matrices are
    /// fine: the smaller side is fully assigned (pairs of weight 0 mean "no pair").
    /// - Returns: (row, column) pairs.
    public static func maximumWeightAssignment(_ weight: [Int64], rows: Int, cols: Int) -> [(Int, Int)] {
        guard rows > 0, cols > 0 else { return [] }
        let transpose = rows > cols
        let n = transpose ? cols : rows, m = transpose ? rows : cols
        let maxWeight = weight.max() ?? 0
        // Minimise cost = max − weight on an n × m matrix with n ≤ m (1-based, e-maxx style).
        var cost = [Int64](repeating: 0, count: (n + 1) * (m + 1))
        for i in 1...n {
            for j in 1...m {
                let w = transpose ? weight[(j - 1) * cols + (i - 1)] : weight[(i - 1) * cols + (j - 1)]
                cost[i * (m + 1) + j] = maxWeight - w
            }
        }
        let infinity = Int64.max / 4
        var u = [Int64](repeating: 0, count: n + 1), v = [Int64](repeating: 0, count: m + 1)
        var p = [Int](repeating: 0, count: m + 1), way = [Int](repeating: 0, count: m + 1)
        var minv = [Int64](repeating: infinity, count: m + 1)
        var used = [Bool](repeating: false, count: m + 1)
        cost.withUnsafeBufferPointer { a in
            u.withUnsafeMutableBufferPointer { u in
                v.withUnsafeMutableBufferPointer { v in
                    p.withUnsafeMutableBufferPointer { p in
                        way.withUnsafeMutableBufferPointer { way in
                            minv.withUnsafeMutableBufferPointer { minv in
                                used.withUnsafeMutableBufferPointer { used in
                                    let stride = m + 1
                                    for i in 1...n {
                                        p[0] = i
                                        var j0 = 0
                                        for j in 0...m {
                                            minv[j] = infinity
                                            used[j] = false
                                        }
                                        repeat {
                                            used[j0] = true
                                            let i0 = p[j0]
                                            var delta = infinity, j1 = 0
                                            let row = i0 * stride
                                            let ui0 = u[i0]
                                            for j in 1...m where !used[j] {
                                                let current = a[row + j] - ui0 - v[j]
                                                if current < minv[j] {
                                                    minv[j] = current
                                                    way[j] = j0
                                                }
                                                if minv[j] < delta {
                                                    delta = minv[j]
                                                    j1 = j
                                                }
                                            }
                                            for j in 0...m {
                                                if used[j] {
                                                    u[p[j]] += delta
                                                    v[j] -= delta
                                                } else {
                                                    minv[j] -= delta
                                                }
                                            }
                                            j0 = j1
                                        } while p[j0] != 0
                                        repeat {
                                            let j1 = way[j0]
                                            p[j0] = p[j1]
                                            j0 = j1
                                        } while j0 != 0
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var result: [(Int, Int)] = []
        for j in 1...m where p[j] != 0 {
            result.append(transpose ? (j - 1, p[j] - 1) : (p[j] - 1, j - 1))
        }
        return result
    }
}
