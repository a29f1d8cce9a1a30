import EventLog
import Foundation
import Mentoring
import Projections
import TestSupport
import Testing

@Suite("Matching: rules, scores, the optimum")
struct MatchingTests {
    typealias C = Matching.Candidate

    static func person(
        _ id: String, unit: String, level: Int, born: Int, gender: String? = nil, offers: [String] = [],
        wants: [String] = [],
        interests: [String] = [], former: [String] = []
    ) -> C {
        C(
            id: ParticipantID(id)!,
            profile: Profile(
                name: id, unit: unit, level: level, born: born, gender: gender, offers: offers, wants: wants,
                interests: interests),
            formerPartners: Set(former.map { ParticipantID($0)! }))
    }

    @Test("every hard rule")
    func hardRules() {
        let mentor = Self.person("m", unit: "IT", level: 2, born: 1999)
        #expect(Matching.eligible(mentor, Self.person("e", unit: "Legal", level: 8, born: 1962), allowSameUnit: false))
        // Different units, unless allowed (compared without case or spaces around).
        let sameUnit = Self.person("e", unit: " it", level: 8, born: 1962)
        #expect(!Matching.eligible(mentor, sameUnit, allowSameUnit: false))
        #expect(Matching.eligible(mentor, sameUnit, allowSameUnit: true))
        // Never former partners, whichever side remembers.
        #expect(
            !Matching.eligible(
                Self.person("m", unit: "IT", level: 2, born: 1999, former: ["e"]),
                Self.person("e", unit: "Legal", level: 8, born: 1962), allowSameUnit: false))
        #expect(
            !Matching.eligible(
                mentor, Self.person("e", unit: "Legal", level: 8, born: 1962, former: ["m"]), allowSameUnit: false))
        // The mentor is the junior: a lower level, or at the same level born later.
        #expect(
            !Matching.eligible(
                Self.person("m", unit: "IT", level: 9, born: 1999),
                Self.person("e", unit: "Legal", level: 8, born: 1962), allowSameUnit: false))
        #expect(
            Matching.eligible(
                Self.person("m", unit: "IT", level: 5, born: 1990),
                Self.person("e", unit: "Legal", level: 5, born: 1970), allowSameUnit: false))
        #expect(
            !Matching.eligible(
                Self.person("m", unit: "IT", level: 5, born: 1970),
                Self.person("e", unit: "Legal", level: 5, born: 1990), allowSameUnit: false))
        #expect(
            !Matching.eligible(
                Self.person("m", unit: "IT", level: 5, born: 1970),
                Self.person("e", unit: "Legal", level: 5, born: 1970), allowSameUnit: false))
    }

    @Test("the score and its reasons on hand-made profiles")
    func scores() {
        let mentor = Self.person(
            "m", unit: "IT", level: 2, born: 2000, gender: "f", offers: ["LinkedIn", "AI", "TikTok"],
            interests: ["cycling", "music"])
        let mentee = Self.person(
            "e", unit: "Board", level: 9, born: 1960, gender: "m", wants: ["linkedin", "ai", "excel"],
            interests: ["music", "travel"])
        let (score, reasons) = Matching.score(mentor, mentee)
        // 0.5 · 2/3 (skills) + 0.2 · 1/3 (interests) + 0.1 (gen-z × boomer) + 0.1 (7 ≥ 5 levels) + 0.1 (genders) = 0.7
        #expect(abs(score - 0.7) < 1e-12)
        #expect(
            reasons == [
                "offers LinkedIn, AI that the mentee wants", "shares music", "gen-z × boomer", "7 levels apart",
                "different genders",
            ])
        let plain = Matching.score(
            Self.person("m", unit: "IT", level: 3, born: 1985), Self.person("e", unit: "HR", level: 4, born: 1990))
        // Same generation, 1 level apart (0.1 · 1/5), nothing else.
        #expect(abs(plain.0 - 0.02) < 1e-12 && plain.1 == ["1 level apart"])
    }

    @Test("the proposal is optimal, not greedy")
    func notGreedy() {
        // Greedy would take m1×e1 (0.7) first and leave m2 without a partner; the optimum
        // pairs m1×e2 and m2×e1.
        let m1 = Self.person("m1", unit: "IT", level: 2, born: 2000, offers: ["a", "b"])
        let m2 = Self.person("m2", unit: "IT", level: 2, born: 2000, offers: ["a"])
        let e1 = Self.person("e1", unit: "HR", level: 2, born: 1999, wants: ["a", "b"])
        let e2 = Self.person("e2", unit: "HR", level: 2, born: 1999, wants: ["b"])
        let proposal = Matching.propose(mentors: [m1, m2], mentees: [e1, e2])
        #expect(proposal.pairs.map { "\($0.mentor)×\($0.mentee)" } == ["m1×e2", "m2×e1"])
        #expect(abs(proposal.total - 0.75) < 1e-9)
    }

    /// Random pools: profiles drawn from small vocabularies so that scores tie and rules bite.
    static func pool(_ generator: inout SeededGenerator, mentors: Int, mentees: Int) -> ([C], [C]) {
        let skills = ["a", "b", "c", "d", "e", "f"], units = ["IT", "HR", "Legal", "Ops"]
        func sample(_ n: Int) -> [String] { Array(skills.shuffled(using: &generator).prefix(n)) }
        let m = (0..<mentors).map { i in
            Self.person(
                "m\(i)", unit: units.randomElement(using: &generator)!, level: Int.random(in: 1...6, using: &generator),
                born: Int.random(in: 1960...2004, using: &generator),
                gender: ["f", "m", nil].randomElement(using: &generator)!,
                offers: sample(Int.random(in: 0...4, using: &generator)), interests: sample(2))
        }
        let e = (0..<mentees).map { i in
            Self.person(
                "e\(i)", unit: units.randomElement(using: &generator)!,
                level: Int.random(in: 3...10, using: &generator),
                born: Int.random(in: 1958...2000, using: &generator),
                gender: ["f", "m", nil].randomElement(using: &generator)!,
                wants: sample(Int.random(in: 0...4, using: &generator)), interests: sample(2),
                former: Int.random(in: 0..<5, using: &generator) == 0
                    ? ["m\(Int.random(in: 0..<max(1, mentors), using: &generator))"] : [])
        }
        return (m, e)
    }

    /// The best total by exhaustive search over mentors in order.
    static func bruteForce(_ score: [[Double?]]) -> Double {
        let rows = score.count, cols = score.first?.count ?? 0
        var best = 0.0
        var used = [Bool](repeating: false, count: cols)
        func go(_ r: Int, _ total: Double) {
            if r == rows {
                best = max(best, total)
                return
            }
            go(r + 1, total)
            for c in 0..<cols where !used[c] {
                guard let s = score[r][c] else { continue }
                used[c] = true
                go(r + 1, total + s)
                used[c] = false
            }
        }
        go(0, 0)
        return best
    }

    static func matrix(_ mentors: [C], _ mentees: [C]) -> [[Double?]] {
        let m = mentors.sorted { $0.id < $1.id }, e = mentees.sorted { $0.id < $1.id }
        return m.map { a in e.map { b in Matching.eligible(a, b, allowSameUnit: false) ? Matching.score(a, b).0 : nil }
        }
    }

    @Test("small random pools: the total equals the brute-force optimum", arguments: 0..<30)
    func againstBruteForce(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 1000)
        let (mentors, mentees) = Self.pool(
            &generator, mentors: Int.random(in: 1...7, using: &generator),
            mentees: Int.random(in: 1...7, using: &generator))
        let proposal = Matching.propose(mentors: mentors, mentees: mentees)
        let matrix = Self.matrix(mentors, mentees)
        #expect(abs(proposal.total - Self.bruteForce(matrix)) < 1e-3, "seed \(seed)")
        // Every proposed pair is eligible; everyone appears at most once.
        #expect(
            Set(proposal.pairs.map(\.mentor)).count == proposal.pairs.count
                && Set(proposal.pairs.map(\.mentee)).count == proposal.pairs.count)
        let candidates = Set(proposal.candidates.map { "\($0.mentor)×\($0.mentee)" })
        for pair in proposal.pairs { #expect(candidates.contains("\(pair.mentor)×\(pair.mentee)")) }
        // Unmatched people are explained.
        let eligibleMentors = Set(proposal.candidates.map(\.mentor))
        for (id, why) in proposal.unmatchedMentors {
            #expect(why == (eligibleMentors.contains(id) ? .outnumbered : .noEligiblePartner))
        }
    }

    @Test("pools up to 60 × 60: the total equals SciPy's optimum", .enabled(if: ReferenceTools.pythonHas("scipy")))
    func againstSciPy() throws {
        var generator = SeededGenerator(seed: 60)
        var matrices: [[[Double?]]] = []
        var totals: [Double] = []
        for size in [(60, 60), (60, 41), (23, 60), (45, 45), (1, 60), (60, 1), (30, 12)] {
            let (mentors, mentees) = Self.pool(&generator, mentors: size.0, mentees: size.1)
            matrices.append(Self.matrix(mentors, mentees))
            totals.append(Matching.propose(mentors: mentors, mentees: mentees, listCandidates: false).total)
        }
        // Ineligible pairs weigh 0: choosing one is the same as leaving both unmatched.
        func encode(_ row: [Double?]) -> String {
            let cells: [String] = row.map { cell in cell.map { String($0) } ?? "0" }
            return "[" + cells.joined(separator: ",") + "]"
        }
        func encode(_ matrix: [[Double?]]) -> String { "[" + matrix.map(encode).joined(separator: ",") + "]" }
        let input: String = "[" + matrices.map(encode).joined(separator: ",") + "]"
        let outcome = try ReferenceTools.runPython(
            """
            import json, sys
            import numpy as np
            from scipy.optimize import linear_sum_assignment
            out = []
            for m in json.load(sys.stdin):
                a = np.array(m)
                r, c = linear_sum_assignment(a, maximize=True)
                out.append(float(a[r, c].sum()))
            print(json.dumps(out))
            """, stdin: input)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [Double])
        for (ours, theirs) in zip(totals, reference) { #expect(abs(ours - theirs) < 1e-3, "\(ours) vs \(theirs)") }
    }

    @Test("the assignment solver agrees with brute force on random integer matrices")
    func assignmentSolver() {
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<200 {
            let rows = Int.random(in: 1...6, using: &generator), cols = Int.random(in: 1...6, using: &generator)
            let weights = (0..<(rows * cols)).map { _ in Int64.random(in: 0...9, using: &generator) }
            let assignment = Matching.maximumWeightAssignment(weights, rows: rows, cols: cols)
            let total = assignment.reduce(Int64(0)) { $0 + weights[$1.0 * cols + $1.1] }
            let matrix = (0..<rows).map { r in (0..<cols).map { c -> Double? in Double(weights[r * cols + c]) } }
            #expect(Double(total) == Self.bruteForce(matrix))
            #expect(assignment.count == min(rows, cols))
        }
    }
}

@Suite("Due dates and iCalendar")
struct DueAndCalendarTests {
    @Test("due dates cross month ends and leap days")
    func arithmetic() {
        #expect(BusinessDate("2028-01-31")!.adding(days: 30).description == "2028-03-01")  // 2028 is a leap year
        #expect(BusinessDate("2027-01-31")!.adding(days: 30).description == "2027-03-02")
        #expect(BusinessDate("2028-02-15")!.adding(days: 14).description == "2028-02-29")
        #expect(BusinessDate("2100-02-28")!.adding(days: 1).description == "2100-03-01")  // not a leap year
        #expect(BusinessDate("2000-02-28")!.adding(days: 1).description == "2000-02-29")  // a leap year
        #expect(BusinessDate("2027-12-20")!.adding(days: 21).description == "2028-01-10")
    }

    @Test("TEXT values escape backslash, semicolon, comma and newlines")
    func escaping() {
        #expect(ICalendar.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne")
    }

    @Test("lines fold at 75 octets, never inside a UTF-8 character")
    func folding() {
        let line = "SUMMARY:" + String(repeating: "ü", count: 60) + String(repeating: "x", count: 40)
        let folded = ICalendar.fold(line)
        let physical = folded.components(separatedBy: "\r\n")
        #expect(physical.count > 1)
        for (i, part) in physical.enumerated() {
            #expect(part.utf8.count <= 75, "line \(i) has \(part.utf8.count) octets")
            if i > 0 { #expect(part.hasPrefix(" ")) }
        }
        // Unfolding restores the line exactly.
        #expect(
            physical.enumerated().map { $0.offset == 0 ? $0.element : String($0.element.dropFirst()) }.joined() == line)
        #expect(ICalendar.fold("short") == "short")
    }
}
