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
        /// Every eligible pair with its score (no reasons), so anyone can check optimality.
        public var candidates: Candidates
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

    /// Profiles reduced to bitsets and numbers, so that 45 million pairs score fast: the
    /// bitsets lie flat, `words` per person, and former partners are positions in the pool.
    struct Prepared {
        var vocabulary: [String] = []
        var index: [String: Int] = [:]
        /// 64-bit words per bitset.
        var words = 1
        var offers: [UInt64] = [], wants: [UInt64] = [], interestsM: [UInt64] = [], interestsE: [UInt64] = []
        var wantsCount: [Int] = [], interestsMCount: [Int] = [], interestsECount: [Int] = []
        /// Per person: unit and gender as small numbers (normalised once, not per pair),
        /// generation, level and birth year.
        var mentorUnit: [Int] = [], menteeUnit: [Int] = [], mentorGender: [Int] = [], menteeGender: [Int] = []
        var mentorGeneration: [Generation] = [], menteeGeneration: [Generation] = []
        var mentorLevel: [Int] = [], menteeLevel: [Int] = [], mentorBorn: [Int] = [], menteeBorn: [Int] = []
        /// Per mentor, the mentees they were partners with (either side remembering), as
        /// positions: mentor m's are `formerMentees[formerStart[m]..<formerStart[m + 1]]`.
        var formerStart: [Int] = [0], formerMentees: [Int32] = []
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
            self.words = words
            func bits(_ people: [Candidate], _ items: KeyPath<Profile, [String]>) -> (bits: [UInt64], counts: [Int]) {
                var b = [UInt64](repeating: 0, count: people.count * words)
                var counts: [Int] = []
                counts.reserveCapacity(people.count)
                for (p, person) in people.enumerated() {
                    for item in person.profile[keyPath: items] {
                        let i = index[Field.normalised(item)]!
                        b[p * words + i / 64] |= 1 << UInt64(i % 64)
                    }
                    counts.append(b[(p * words)..<((p + 1) * words)].reduce(0) { $0 + $1.nonzeroBitCount })
                }
                return (b, counts)
            }
            offers = bits(mentors, \.offers).bits
            (interestsM, interestsMCount) = bits(mentors, \.interests)
            (wants, wantsCount) = bits(mentees, \.wants)
            (interestsE, interestsECount) = bits(mentees, \.interests)
            // Former partners: only those in the pool matter.
            if mentors.contains(where: { !$0.formerPartners.isEmpty })
                || mentees.contains(where: { !$0.formerPartners.isEmpty })
            {
                var mentorAt: [ParticipantID: Int] = [:], menteeAt: [ParticipantID: Int] = [:]
                for (i, c) in mentors.enumerated() { mentorAt[c.id] = i }
                for (i, c) in mentees.enumerated() { menteeAt[c.id] = i }
                var former = [[Int32]](repeating: [], count: mentors.count)
                for (m, c) in mentors.enumerated() {
                    for id in c.formerPartners { if let e = menteeAt[id] { former[m].append(Int32(e)) } }
                }
                for (e, c) in mentees.enumerated() {
                    for id in c.formerPartners { if let m = mentorAt[id] { former[m].append(Int32(e)) } }
                }
                formerStart = [0]
                formerStart.reserveCapacity(mentors.count + 1)
                for list in former {
                    formerMentees += Set(list).sorted()
                    formerStart.append(formerMentees.count)
                }
            } else {
                formerStart = [Int](repeating: 0, count: mentors.count + 1)
            }
        }

        /// How many items two people's bitsets share.
        @inline(__always)
        func common(_ a: [UInt64], _ i: Int, _ b: [UInt64], _ j: Int) -> Int {
            if words == 1 { return (a[i] & b[j]).nonzeroBitCount }
            var n = 0
            for k in 0..<words { n += (a[i * words + k] & b[j * words + k]).nonzeroBitCount }
            return n
        }

        /// The items two people's bitsets share, in vocabulary order.
        func members(_ a: [UInt64], _ i: Int, _ b: [UInt64], _ j: Int) -> [String] {
            vocabulary.indices.filter { v in
                (a[i * words + v / 64] & b[j * words + v / 64]) & (1 << UInt64(v % 64)) != 0
            }.map { vocabulary[$0] }
        }

        /// `eligible`, on the prepared numbers.
        func eligible(_ m: Int, _ e: Int, allowSameUnit: Bool) -> Bool {
            if !allowSameUnit && mentorUnit[m] == menteeUnit[e] { return false }
            let former = formerStart[m]..<formerStart[m + 1]
            if !former.isEmpty && formerMentees[former].contains(Int32(e)) { return false }
            if mentorLevel[m] != menteeLevel[e] { return mentorLevel[m] < menteeLevel[e] }
            return mentorBorn[m] > menteeBorn[e]
        }

        func score(_ m: Int, _ e: Int, _ w: Weights) -> Double {
            let skill = wantsCount[e] == 0 ? 0 : Double(common(offers, m, wants, e)) / Double(wantsCount[e])
            let shared = common(interestsM, m, interestsE, e)
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
            let skills = members(offers, m, wants, e)
            if !skills.isEmpty { out.append("offers \(skills.joined(separator: ", ")) that the mentee wants") }
            let interests = members(interestsM, m, interestsE, e)
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
    ///
    /// Memory: two bytes per pair of the pool while the assignment is found (a pair's weight
    /// as a code into the few distinct weights), nothing per pair after it; the candidates
    /// are scored again as they are read.
    /// - Complexity: O(n²m) for n = min(mentors, mentees) and m = max(mentors, mentees);
    ///   O(nm) to score.
    public static func propose(
        mentors: [Candidate], mentees: [Candidate], allowSameUnit: Bool = false,
        weights: Weights = Weights(), listCandidates: Bool = true
    ) -> Proposal {
        let mentors = mentors.sorted { $0.id < $1.id }, mentees = mentees.sorted { $0.id < $1.id }
        let prepared = Prepared(mentors: mentors, mentees: mentees)
        let grid = WeightGrid(prepared, allowSameUnit: allowSameUnit, weights: weights)
        var pairs: [Pair] = []
        var takenMentor = [Bool](repeating: false, count: mentors.count)
        var takenMentee = [Bool](repeating: false, count: mentees.count)
        var total = 0.0
        for (m, e) in grid.assignment() where grid.weight(m, e) > 0 {
            let s = prepared.score(m, e, weights)
            pairs.append(
                Pair(mentor: mentors[m].id, mentee: mentees[e].id, score: round4(s), reasons: prepared.reasons(m, e)))
            takenMentor[m] = true
            takenMentee[e] = true
            total += s
        }
        pairs.sort { ($0.mentor, $0.mentee) < ($1.mentor, $1.mentee) }
        let unmatchedMentors = mentors.indices.filter { !takenMentor[$0] }.map {
            (mentors[$0].id, grid.eligibleMentor[$0] ? Unmatched.outnumbered : .noEligiblePartner)
        }
        let unmatchedMentees = mentees.indices.filter { !takenMentee[$0] }.map {
            (mentees[$0].id, grid.eligibleMentee[$0] ? Unmatched.outnumbered : .noEligiblePartner)
        }
        return Proposal(
            pairs: pairs, total: round4(total), unmatchedMentors: unmatchedMentors, unmatchedMentees: unmatchedMentees,
            candidates: Candidates(
                listCandidates ? prepared : nil, count: listCandidates ? grid.eligiblePairs : 0,
                allowSameUnit: allowSameUnit, weights: weights))
    }

    static func round4(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
}
