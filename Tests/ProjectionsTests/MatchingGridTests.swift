import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

@Suite("Matching: the weight grid, its candidates, and rows written as they come")
struct MatchingGridTests {
    typealias C = Matching.Candidate

    /// The weights the plain path gives: each pair scored on its own (`Matching.eligible`,
    /// `Matching.score`) into a full matrix, mentor by mentor, both sides in id order.
    static func plainWeights(_ mentors: [C], _ mentees: [C]) -> [Int64] {
        let scale = Int64(max(mentors.count, mentees.count) + 1)
        return mentors.flatMap { a in
            mentees.map { b in
                Matching.eligible(a, b, allowSameUnit: false)
                    ? Int64((Matching.score(a, b).0 * 1_000_000).rounded()) * scale + 1 : 0
            }
        }
    }

    static func sortedPool(seed: UInt64, mentors: Int, mentees: Int) -> ([C], [C]) {
        var generator = SeededGenerator(seed: seed)
        let (m, e) = MatchingTests.pool(&generator, mentors: mentors, mentees: mentees)
        return (m.sorted { $0.id < $1.id }, e.sorted { $0.id < $1.id })
    }

    @Test(
        "a grid filled in parts, with two-byte or four-byte codes, holds the plain weights and gives their assignment",
        arguments: [(150, 120), (120, 150), (1, 9000), (9000, 1), (7, 5)])
    func gridAgainstPlainMatrix(size: (Int, Int)) {
        let (mentors, mentees) = Self.sortedPool(
            seed: UInt64(size.0 * 10_007 + size.1), mentors: size.0, mentees: size.1)
        let plain = Self.plainWeights(mentors, mentees)
        let prepared = Matching.Prepared(mentors: mentors, mentees: mentees)
        let reference = Matching.maximumWeightAssignment(plain, rows: mentors.count, cols: mentees.count)
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        for (parts, narrowCodes) in [(1, Int(UInt16.max)), (4, Int(UInt16.max)), (4, 3), (3, 1)] {
            let grid = Matching.WeightGrid(
                prepared, allowSameUnit: false, weights: Matching.Weights(), narrowCodes: narrowCodes, parts: parts)
            let label = "\(size) in \(parts) parts, \(narrowCodes) two-byte codes"
            if case .wide = grid.codes { #expect(grid.weightOf.count > narrowCodes + 1, "\(label)") }
            var mismatches = 0
            for m in mentors.indices {
                for e in mentees.indices where grid.weight(m, e) != plain[m * mentees.count + e] { mismatches += 1 }
            }
            #expect(mismatches == 0, "\(label)")
            #expect(grid.eligiblePairs == plain.filter { $0 != 0 }.count, "\(label)")
            #expect(grid.anyForbidden == plain.contains(0), "\(label)")
            for m in mentors.indices {
                let any = mentees.indices.contains { plain[m * mentees.count + $0] != 0 }
                #expect(grid.eligibleMentor[m] == any, "\(label): mentor \(m)")
            }
            for e in mentees.indices {
                let any = mentors.indices.contains { plain[$0 * mentees.count + e] != 0 }
                #expect(grid.eligibleMentee[e] == any, "\(label): mentee \(e)")
            }
            let assignment = grid.assignment().sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            #expect(assignment.map { [$0.0, $0.1] } == reference.map { [$0.0, $0.1] }, "\(label)")
        }
    }

    @Test("the grid takes four-byte codes by itself when two bytes cannot number the weights")
    func wideCodesWhenNeeded() {
        let (mentors, mentees) = Self.sortedPool(seed: 3, mentors: 40, mentees: 40)
        let prepared = Matching.Prepared(mentors: mentors, mentees: mentees)
        let narrow = Matching.WeightGrid(prepared, allowSameUnit: false, weights: Matching.Weights())
        guard case .narrow = narrow.codes else {
            Issue.record("a pool of 40 × 40 has few distinct weights")
            return
        }
        let wide = Matching.WeightGrid(
            prepared, allowSameUnit: false, weights: Matching.Weights(), narrowCodes: narrow.weightOf.count - 2)
        guard case .wide = wide.codes else {
            Issue.record("one weight too many for the two-byte codes, yet they were kept")
            return
        }
        #expect(Set(wide.weightOf) == Set(narrow.weightOf))
    }

    @Test("candidates, read as pairs or as positions, are every eligible pair with its plain score", arguments: 0..<4)
    func candidatesAgainstPlainList(seed: Int) {
        let (mentors, mentees) = Self.sortedPool(seed: UInt64(seed) &+ 4242, mentors: 30 + seed * 7, mentees: 25)
        var expected: [String] = []
        for a in mentors {
            for b in mentees where Matching.eligible(a, b, allowSameUnit: false) {
                expected.append("\(a.id)×\(b.id)=\((Matching.score(a, b).0 * 10_000).rounded() / 10_000)")
            }
        }
        // Shuffled in: propose sorts each side itself.
        var generator = SeededGenerator(seed: UInt64(seed))
        let proposal = Matching.propose(
            mentors: mentors.shuffled(using: &generator), mentees: mentees.shuffled(using: &generator))
        #expect(proposal.candidates.count == expected.count)
        #expect(proposal.candidates.map { "\($0.mentor)×\($0.mentee)=\($0.score)" } == expected)
        let ids = (proposal.candidates.mentorIDs, proposal.candidates.menteeIDs)
        #expect(ids.0 == mentors.map(\.id) && ids.1 == mentees.map(\.id))
        var positions: [String] = []
        proposal.candidates.forEachPosition { m, e, score in positions.append("\(ids.0[m])×\(ids.1[e])=\(score)") }
        #expect(positions == expected)
        let unlisted = Matching.propose(mentors: mentors, mentees: mentees, listCandidates: false)
        #expect(unlisted.candidates.count == 0 && Array(unlisted.candidates).isEmpty)
        #expect(unlisted.pairs == proposal.pairs)
    }

    @Test("rows written as they come, a megabyte at a time, read as the whole document does")
    func rowsHandedOnInPieces() throws {
        let basis = Basis(
            head: .empty, asOf: BusinessDate("2027-03-01")!, asOfGiven: false, knownAt: nil, role: .coordinator)
        var result = QueryResult(
            basis: basis, payloadKey: "pairs", payload: .array([.object(["a": .int(1)])]),
            table: TextTable(headers: ["a"], rows: [["1"]]))
        result.extra = [("total", .double(0.5))]
        let count = 40_000
        result.appendRows(
            "candidates",
            JSONRows(count: count) { (w: inout JSONWriter, before: (inout JSONWriter, Int) -> Void) in
                for i in 0..<count {
                    before(&w, i)
                    w.writeRaw(#"{"n":"#)
                    w.write(Int64(i))
                    w.writeRaw(#","s":"#)
                    w.write("row \(i) \u{1F600}\"")
                    w.writeRaw("}")
                }
            })
        result.appendRows("empty", JSONRows(count: 0, element: { _, _ in }))
        result.extra.append(("after", .string("end")))
        var pieces: [String] = []
        try Renderer.write(result, as: .json) { pieces.append($0) }
        let whole = Renderer.render(result, as: .json)
        #expect(pieces.count > 1, "more than a megabyte is handed on in pieces")
        #expect(pieces.joined() == whole)
        #expect(pieces.dropLast().allSatisfy { $0.utf8.count >= 1 << 20 })
        // Every element on its own line, as the pretty form has them.
        let lines = whole.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix(#"    {"n":"#) }.count == count)
        #expect(whole.contains(#""empty": []"#) && whole.hasSuffix("\n}\n"))
        // The values read back from the rows are the document's.
        #expect(try JSONScanner.parse(Array(whole.utf8)) == result.json)
        let values = try #require(result.rows["candidates"]).values
        #expect(values.count == count && values[7] == .object(["n": .int(7), "s": .string("row 7 \u{1F600}\"")]))
    }
}

extension MatchingGridTests {
    @Test("suggest's candidate rows, each score formatted once, read back as the candidates", arguments: 0..<3)
    func candidateRows(seed: Int) throws {
        let (mentors, mentees) = Self.sortedPool(seed: UInt64(seed) &+ 777, mentors: 60, mentees: 45)
        let candidates = Matching.propose(mentors: mentors, mentees: mentees).candidates
        let expected = candidates.map { "\($0.mentor)×\($0.mentee)=\($0.score)" }
        // Small vocabularies: scores repeat, so most rows take a score's text already made.
        #expect(Set(candidates.map(\.score)).count * 4 < expected.count)
        let rows = SuggestQuery.candidateRows(candidates).values.map { value -> String in
            let object = value.objectValue
            let score = object?["score"]?.doubleValue.map { "\($0)" } ?? "?"
            return "\(object?["mentor"]?.stringValue ?? "?")×\(object?["mentee"]?.stringValue ?? "?")=\(score)"
        }
        #expect(rows == expected)
    }
}
