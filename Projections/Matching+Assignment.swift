import EventLog
import Mentoring
import Synchronization

extension Matching {
    /// The weight of every pair of a pool, for the assignment: a pair's weight is its score
    /// in millionths, scaled so that one more pair only ever breaks a tie, plus one (0 for a
    /// pair the rules forbid).
    ///
    /// Held as a code per pair into the table of distinct weights: a score is a sum of small
    /// fractions, so a pool has a few thousand distinct weights at most, and a code takes two
    /// bytes (four if there are more than 65,535). A pool of 45,000 mentors and 1,000 mentees
    /// then takes 90 MB, not the 2.2 GB that a weight and a score per pair took.
    ///
    /// Laid out with the assignment's rows on the smaller side of the pool, so that its
    /// inner loop reads one row from start to end.
    struct WeightGrid {
        /// The pool's sides.
        let mentors: Int, mentees: Int
        /// Whether the assignment's rows are the mentees (there are more mentors).
        let byMentee: Bool
        /// The codes, row by row.
        private(set) var codes: Codes
        /// The weight of each code; code 0 is a forbidden pair, weight 0.
        private(set) var weightOf: [Int64] = [0]
        /// Whether any pair is forbidden (code 0 is in use).
        private(set) var anyForbidden = false
        /// Who has at least one eligible partner.
        private(set) var eligibleMentor: [Bool], eligibleMentee: [Bool]
        /// How many pairs are eligible.
        private(set) var eligiblePairs = 0

        enum Codes {
            case narrow([UInt16])
            case wide([UInt32])
        }

        /// The assignment's rows and columns.
        var rows: Int { byMentee ? mentees : mentors }
        var columns: Int { byMentee ? mentors : mentees }

        /// - Parameter narrowCodes: how many distinct weights two-byte codes may number
        ///   (fewer only in tests, to take the four-byte path).
        /// - Parameter parts: how many parts the grid is filled in, on as many threads.
        init(
            _ prepared: Prepared, allowSameUnit: Bool, weights: Weights, narrowCodes: Int = Int(UInt16.max),
            parts: Int = LogVerifier.processorCount
        ) {
            mentors = prepared.mentors.count
            mentees = prepared.mentees.count
            byMentee = mentors > mentees
            eligibleMentor = [Bool](repeating: false, count: mentors)
            eligibleMentee = [Bool](repeating: false, count: mentees)
            codes = .narrow([])
            if let narrow = fill(
                prepared, allowSameUnit: allowSameUnit, weights: weights, as: UInt16.self,
                limit: min(narrowCodes, Int(UInt16.max)), parts: parts)
            {
                codes = .narrow(narrow)
            } else {
                // More distinct weights than two bytes can number: start again with four.
                codes = .wide(
                    fill(
                        prepared, allowSameUnit: allowSameUnit, weights: weights, as: UInt32.self,
                        limit: Int(UInt32.max), parts: parts)!)
            }
        }

        /// Scores every pair into codes of type `Code`; nil if there are more than `limit`
        /// distinct weights.
        ///
        /// On every core: each part of the grid numbers the weights it meets in its own table,
        /// then the parts' tables are merged and the later parts' codes renumbered.
        private mutating func fill<Code: FixedWidthInteger & UnsignedInteger>(
            _ prepared: Prepared, allowSameUnit: Bool, weights: Weights, as: Code.Type, limit: Int,
            parts count: Int
        ) -> [Code]? {
            let scale = Int64(max(mentors, mentees) + 1)
            // Millionths to code: a table over the range a score can take, a dictionary for
            // what falls outside it (weights far from the default ones).
            var low = 0.0, high = 0.0
            for w in [weights.skills, weights.interests, weights.generation, weights.levelGap, weights.gender] {
                if w < 0 { low += w } else { high += w }
            }
            let lowest: Double = max(-1e12, (low * 1_000_000).rounded(.down))
            let first = Int64(lowest) - 1
            let range: Double = (high * 1_000_000).rounded(.up) - lowest + 3
            let span = range.isFinite ? Int(min(Double(1 << 22), max(0, range))) : 0
            let rows = self.rows, columns = self.columns, byMentee = self.byMentee
            let mentors = self.mentors, mentees = self.mentees

            let parts = Mutex<[Int: FilledPart]>([:])
            var out = [Code](repeating: 0, count: rows * columns)
            // `try!`: the filling cannot throw.
            try! fillInParts(&out, parts: count) { cells, buffer in
                var part = FilledPart(
                    eligibleMentor: [Bool](repeating: false, count: mentors),
                    eligibleMentee: [Bool](repeating: false, count: mentees))
                var tabled = [UInt32](repeating: 0, count: span)
                var other: [Int64: UInt32] = [:]
                var at = cells.lowerBound
                scan: while at < cells.upperBound {
                    let i = at / columns
                    for j in (at - i * columns)..<min(columns, cells.upperBound - i * columns) {
                        defer { at += 1 }
                        let (m, e) = byMentee ? (j, i) : (i, j)
                        guard prepared.eligible(m, e, allowSameUnit: allowSameUnit) else {
                            part.anyForbidden = true
                            buffer[at] = 0
                            continue
                        }
                        part.eligibleMentor[m] = true
                        part.eligibleMentee[e] = true
                        part.eligiblePairs += 1
                        let millionths = Int64((prepared.score(m, e, weights) * 1_000_000).rounded())
                        let slot = Int(truncatingIfNeeded: millionths &- first)
                        var code = slot >= 0 && slot < span ? tabled[slot] : other[millionths, default: 0]
                        if code == 0 {
                            guard part.millionths.count < limit else {
                                part.overflow = true
                                break scan
                            }
                            part.millionths.append(millionths)
                            code = UInt32(part.millionths.count)
                            if slot >= 0 && slot < span { tabled[slot] = code } else { other[millionths] = code }
                        }
                        buffer[at] = Code(code)
                    }
                }
                parts.withLock { $0[cells.lowerBound] = part }
            }
            // Merge in grid order; the first part's codes are already the merged ones.
            let found = parts.withLock { $0 }.sorted { $0.key < $1.key }
            weightOf = [0]
            anyForbidden = false
            eligiblePairs = 0
            var codeOf: [Int64: Code] = [:]
            var renumber: [Int: [Code]] = [:]
            for (start, part) in found {
                if part.overflow { return nil }
                var local: [Code] = [0]
                for millionths in part.millionths {
                    if let code = codeOf[millionths] {
                        local.append(code)
                        continue
                    }
                    guard weightOf.count <= limit else { return nil }
                    let code = Code(weightOf.count)
                    codeOf[millionths] = code
                    weightOf.append(millionths * scale + 1)
                    local.append(code)
                }
                if local.indices.contains(where: { local[$0] != Code($0) }) { renumber[start] = local }
                anyForbidden = anyForbidden || part.anyForbidden
                eligiblePairs += part.eligiblePairs
                for m in 0..<mentors where part.eligibleMentor[m] { eligibleMentor[m] = true }
                for e in 0..<mentees where part.eligibleMentee[e] { eligibleMentee[e] = true }
            }
            if !renumber.isEmpty {
                try! fillInParts(&out, parts: count) { cells, buffer in
                    guard let local = renumber[cells.lowerBound] else { return }
                    for at in cells { buffer[at] = local[Int(buffer[at])] }
                }
            }
            return out
        }

        /// What one part of the grid met while it was filled: its weights in millionths by
        /// local code (from 1), and who has an eligible partner.
        private struct FilledPart: Sendable {
            var millionths: [Int64] = []
            var eligibleMentor: [Bool], eligibleMentee: [Bool]
            var eligiblePairs = 0, anyForbidden = false, overflow = false
        }

        /// A pair's weight (0 if forbidden).
        func weight(_ m: Int, _ e: Int) -> Int64 {
            let at = byMentee ? e * mentors + m : m * mentees + e
            switch codes {
            case .narrow(let codes): return weightOf[Int(codes[at])]
            case .wide(let codes): return weightOf[Int(codes[at])]
            }
        }

        /// The assignment with the largest total weight, as (mentor, mentee) pairs: everyone
        /// on the smaller side is assigned (weight-0 pairs mean "no pair").
        func assignment() -> [(Int, Int)] {
            let rows = self.rows, columns = self.columns
            guard rows > 0 else { return [] }
            // Minimise cost = max − weight. The largest weight counts a forbidden pair's 0
            // only where one exists, as the full matrix it stands for would.
            var largest = weightOf.dropFirst().max() ?? 0
            if anyForbidden { largest = max(largest, 0) }
            let cost = weightOf.map { largest - $0 }
            let rowOf: [Int]
            switch codes {
            case .narrow(let codes): rowOf = Matching.assign(codes, cost: cost, rows: rows, columns: columns)
            case .wide(let codes): rowOf = Matching.assign(codes, cost: cost, rows: rows, columns: columns)
            }
            return rowOf.indices.compactMap { j in
                guard rowOf[j] >= 0 else { return nil }
                return byMentee ? (j, rowOf[j]) : (rowOf[j], j)
            }
        }
    }

    /// Kuhn–Munkres with potentials (the O(n²m) shortest-augmenting-path form): the
    /// assignment of rows to columns with the largest total weight. Rectangular matrices are
    /// fine: the smaller side is fully assigned (pairs of weight 0 mean "no pair").
    /// - Returns: (row, column) pairs.
    public static func maximumWeightAssignment(_ weight: [Int64], rows: Int, cols: Int) -> [(Int, Int)] {
        guard rows > 0, cols > 0 else { return [] }
        let transpose = rows > cols
        let n = transpose ? cols : rows, m = transpose ? rows : cols
        let largest = weight.max() ?? 0
        var codeOf: [Int64: UInt32] = [:]
        var cost: [Int64] = []
        var codes = [UInt32](repeating: 0, count: n * m)
        for i in 0..<n {
            for j in 0..<m {
                let w = transpose ? weight[j * cols + i] : weight[i * cols + j]
                let code =
                    codeOf[w]
                    ?? {
                        codeOf[w] = UInt32(cost.count)
                        cost.append(largest - w)
                        return UInt32(cost.count - 1)
                    }()
                codes[i * m + j] = code
            }
        }
        let rowOf = assign(codes, cost: cost, rows: n, columns: m)
        return rowOf.indices.compactMap { j in
            guard rowOf[j] >= 0 else { return nil }
            return transpose ? (j, rowOf[j]) : (rowOf[j], j)
        }
    }

    /// The assignment of `rows` ≤ `columns` that minimises the total cost, where the cost of
    /// (i, j) is `cost[codes[i * columns + j]]`: the e-maxx form of Kuhn–Munkres.
    /// - Returns: for each column, its row, or -1.
    /// - Complexity: O(rows² · columns).
    static func assign<Code: FixedWidthInteger & UnsignedInteger>(
        _ codes: [Code], cost: [Int64], rows n: Int, columns m: Int
    ) -> [Int] {
        precondition(n <= m && codes.count == n * m)
        let infinity = Int64.max / 4
        // 1-based, as in the algorithm's usual statement: row 0 and column 0 are sentinels.
        var u = [Int64](repeating: 0, count: n + 1), v = [Int64](repeating: 0, count: m + 1)
        var p = [Int](repeating: 0, count: m + 1), way = [Int](repeating: 0, count: m + 1)
        var minv = [Int64](repeating: infinity, count: m + 1)
        var used = [Bool](repeating: false, count: m + 1)
        codes.withUnsafeBufferPointer { a in
            cost.withUnsafeBufferPointer { cost in
                u.withUnsafeMutableBufferPointer { u in
                    v.withUnsafeMutableBufferPointer { v in
                        p.withUnsafeMutableBufferPointer { p in
                            way.withUnsafeMutableBufferPointer { way in
                                minv.withUnsafeMutableBufferPointer { minv in
                                    used.withUnsafeMutableBufferPointer { used in
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
                                                // Column j (1-based) of row i0 (1-based).
                                                let row = (i0 - 1) * m - 1
                                                let ui0 = u[i0]
                                                for j in 1...m where !used[j] {
                                                    let current = cost[Int(a[row + j])] - ui0 - v[j]
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
        }
        return (1...m).map { p[$0] - 1 }
    }
}
