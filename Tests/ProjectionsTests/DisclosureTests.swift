import EventLog
import Mentoring
import Projections
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Disclosure: the perturbation table, cell keys and the analyst policy")
struct DisclosureTests {
    let table = PerturbationTable.standard

    @Test("the table is unbiased for every true count, bounded by D, never negative, and never publishes 1 or 2")
    func tableProperties() {
        for base in [1, 3] {
            let table = PerturbationTable(maximumDeviation: 2, variance: 1, smallestHidden: 2, base: base)
            for count in 0...200 {
                let row = table.distribution(count)
                let total = row.reduce(0) { $0 + $1.probability }
                let mean = row.reduce(0) { $0 + $1.probability * Double($1.published) }
                #expect(abs(total - 1) < 1e-12, "base \(base), count \(count): probabilities sum to \(total)")
                #expect(abs(mean - Double(count)) < 1e-12, "base \(base), count \(count): expectation \(mean)")
                for (published, p) in row where p > 0 {
                    #expect(abs(published - count) <= 2 && published >= 0 && !(1...2).contains(published))
                    #expect(published % base == 0)
                }
            }
            // A true zero stays zero, whatever the key.
            #expect(table.distribution(0).map(\.published) == [0])
        }
    }

    @Test("hand-computed rows: rounding to base 3, and the ptable maximum-entropy row")
    func handComputedRows() {
        // 7 = 6 + 1: to 6 with probability 2/3, to 9 with 1/3 (mean 7); variance 2/3·1 + 1/3·4 = 2.
        let seven = table.distribution(7)
        #expect(seven.map(\.published) == [6, 9])
        #expect(abs(seven[0].probability - 2.0 / 3) < 1e-12)
        #expect(abs(table.variance(7) - 2) < 1e-12 && table.variance(9) == 0)
        #expect(abs(table.publishedVariance - 4.0 / 3) < 1e-12)
        // Base 1 for large counts: p ∝ exp(−λx²) on −2…2 with variance exactly 1, symmetric.
        let wide = PerturbationTable(maximumDeviation: 2, variance: 1, smallestHidden: 2, base: 1)
        let row = wide.distribution(50).map(\.probability)
        #expect(row.count == 5 && abs(row[0] - row[4]) < 1e-12 && abs(row[1] - row[3]) < 1e-12)
        #expect(abs(wide.variance(50) - 1) < 1e-12)
        // The maximum-entropy form: log p is quadratic, so log(p₀/p₁) = 3·log(p₁/p₂)... with
        // p ∝ exp(−λx²): log p₂(0) − log p₂(±1) = λ and log p₂(±1) − log p₂(±2) = 3λ.
        let lambda = log(row[2] / row[3])
        #expect(abs(log(row[3] / row[4]) - 3 * lambda) < 1e-9)
        // Count 1 under js = 2: only 0 and 3 are allowed; the mean forces 2/3 and 1/3.
        #expect(wide.distribution(1).map(\.published) == [0, 3])
    }

    @Test("the key picks the value: the same key always gives the same figure, and keys cover the probabilities")
    func keyLookup() {
        var histogram: [Int: Int] = [:]
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<30_000 {
            let key = CellKey(UInt32(truncatingIfNeeded: rng.next()))
            let value = table.published(7, key: key)
            #expect(value == table.published(7, key: key))
            histogram[value, default: 0] += 1
        }
        #expect(abs(Double(histogram[6] ?? 0) / 30_000 - 2.0 / 3) < 0.02)
        // Keys are monotone in the published value: a change of one true count moves the
        // figure only when the key lies between the two rows' boundaries.
        #expect(
            table.published(6, key: CellKey(0)) == 6 && table.published(7, key: CellKey(0)) == 6
                && table.published(7, key: CellKey(.max)) == 9)
    }

    /// The attacker's advantage (true-positive minus false-positive rate) of the best simple
    /// test, over all true counts of one residue class, computed exactly from the table.
    static func advantages(
        _ table: PerturbationTable, from: Int = 30, through: Int = 59
    ) -> (independent: Double, sameKey: Double) {
        var independent = 0.0, sameKey = 0.0
        for i in from...through {
            // Two different populations (unit X, and the women of unit X): independent keys.
            // Guess "withdrew" when the first publishes more than the second.
            let a = table.distribution(i + 1), b = table.distribution(i), c = table.distribution(i)
            var tp = 0.0, fp = 0.0
            for (x, px) in a { for (y, py) in b where x > y { tp += px * py } }
            for (x, px) in c { for (y, py) in b where x > y { fp += px * py } }
            independent += tp - fp
            // The same population a day apart: the same key, so the figure moves only when a
            // rounding boundary is crossed. Guess "someone withdrew" when it moves.
            var moved = 0.0
            var rng = SeededGenerator(seed: UInt64(i))
            for _ in 0..<4000 {
                let key = CellKey(UInt32(truncatingIfNeeded: rng.next()))
                if table.published(i, key: key) != table.published(i + 1, key: key) { moved += 1 }
            }
            sameKey += moved / 4000
        }
        let n = Double(through - from + 1)
        return (independent / n, sameKey / n)
    }

    @Test(
        "differencing: the default table keeps a single attack's advantage under 0.5; the ptable default (base 1) does not"
    )
    func attackAdvantage() {
        let standard = Self.advantages(table)
        #expect(standard.independent < 0.3)
        #expect(standard.sameKey < 0.4)
        let wide = Self.advantages(PerturbationTable(maximumDeviation: 2, variance: 1, smallestHidden: 2, base: 1))
        // Base 1 shifts every published value with the true one when the key is the same.
        #expect(wide.sameKey > 0.99)
    }

    @Test("cell keys: the same people give the same key in any order; record keys depend on the secret")
    func cellKeys() {
        let keys = RecordKeys(secret: Array(repeating: 7, count: 32))
        let other = RecordKeys(secret: Array(repeating: 8, count: 32))
        let ids = (1...20).map { ParticipantID("p\($0)")! }
        let policy = DisclosurePolicy.cellKey(keys)
        #expect(policy.population(ids) == policy.population(ids.reversed()))
        #expect(policy.population(ids).key != DisclosurePolicy.cellKey(other).population(ids).key)
        // A complement's key is the parent's minus the part's.
        let part = policy.population(ids.prefix(8)), rest = policy.population(ids.dropFirst(8))
        #expect(part.complement(in: policy.population(ids)) == rest)
        // Exact views publish true counts.
        #expect(DisclosurePolicy.exact.count(7, in: policy.population(ids), "withdrawn") == 7)
        // The published figure depends on the population and the variable, not on the order.
        #expect(
            policy.count(7, in: part, "withdrawn")
                == policy.count(7, in: policy.population(ids.prefix(8).reversed()), "withdrawn"))
    }

    @Test("an erasure redraws every figure: the same cell after a forget is an independent draw")
    func erasureEpoch() {
        let keys = RecordKeys(secret: Array(repeating: 9, count: 32))
        let before = DisclosurePolicy.cellKey(keys, erased: 0), after = DisclosurePolicy.cellKey(keys, erased: 1)
        var changed = 0
        for group in 0..<300 {
            let population = before.population((0..<10).map { ParticipantID("g\(group)p\($0)")! })
            if before.count(7, in: population, "withdrawn") != after.count(7, in: population, "withdrawn") {
                changed += 1
            }
        }
        // Independent draws of count 7 (6 with 2/3, 9 with 1/3) differ with probability 4/9.
        #expect(changed > 100 && changed < 170)
    }

    @Test("record keys are HMAC-SHA256 of the kind and id under the secret, first 32 bits")
    func recordKeyDerivation() {
        let secret = Array(repeating: UInt8(7), count: 32)
        let expected = HMAC.sha256(key: secret, message: Array("participant:p1".utf8)).words.0
        #expect(RecordKeys(secret: secret).key(ParticipantID("p1")!) == CellKey(expected))
    }

    /// Many keys are computed two at a time on every core: each must still be its own id's,
    /// in its own place, for counts that leave an odd one in a part and counts split in parts.
    @Test(
        "a policy's keys of many people or tandems are each one's own HMAC, in order",
        arguments: [0, 1, 2, 3, 4097, 40_001, 65_536])
    func keysInBulk(count: Int) {
        let secret = (0..<32).map { UInt8($0 * 7 % 256) }
        let keys = RecordKeys(secret: secret)
        let policy = DisclosurePolicy.cellKey(keys)
        // Ids of unequal lengths, so that paired HMACs differ in length too.
        let people = (0..<count).map { ParticipantID("p-\($0)" + String(repeating: "x", count: $0 % 50))! }
        let tandems = (0..<count).map { TandemID("t-\($0)-\($0 % 3)")! }
        let peopleKeys = policy.keys(of: people), tandemKeys = policy.keys(of: tandems)
        let samePeople = peopleKeys == people.map { keys.key($0) }
        let sameTandems = tandemKeys == tandems.map { keys.key($0) }
        #expect(samePeople && sameTandems, "count \(count)")
        // Spot checks against the plain HMAC, computed with no shortcut.
        for i in [0, count / 2, count - 1] where i >= 0 && i < count {
            let expected = HMAC.sha256(key: secret, message: Array(("tandem:" + tandems[i].rawValue).utf8)).words.0
            #expect(tandemKeys[i] == CellKey(expected))
        }
    }

    @Test("magnitudes: unbiased over keys, bounded by the largest contribution, zero stays zero")
    func magnitudes() {
        let keys = RecordKeys(secret: Array(repeating: 1, count: 32))
        let policy = DisclosurePolicy.cellKey(keys)
        var sum = 0.0
        let n = 20_000
        for i in 0..<n {
            let population = Population(size: 10, key: CellKey(UInt32(truncatingIfNeeded: i &* 2_654_435_761)))
            let published = policy.magnitude(100, largest: 12, in: population, "sessions")
            #expect(abs(published - 100) <= 12)
            sum += Double(published - 100)
        }
        #expect(abs(sum / Double(n)) < 0.15)
        #expect(policy.magnitude(0, largest: 0, in: Population(size: 3, key: CellKey(99)), "sessions") == 0)
    }

    @Test("filters: the published sizes of the group and its complement must reach k; the refusal names the command")
    func filters() {
        let policy = DisclosurePolicy.cellKey(RecordKeys(secret: Array(repeating: 3, count: 32)))
        let everyone = (1...40).map { ParticipantID("p\($0)")! }
        let parent = policy.population(everyone)
        #expect(throws: DisclosureRefusal.self) {
            try policy.checkFilter(
                .init("segment", "x"), selected: policy.population(everyone.prefix(2)), parent: parent, k: 5,
                query: .stats)
        }
        #expect(throws: DisclosureRefusal.self) {
            try policy.checkFilter(
                .init("segment", "x"), selected: policy.population(everyone.prefix(39)), parent: parent, k: 5,
                query: .stats)
        }
        #expect(throws: Never.self) {
            try policy.checkFilter(
                .init("segment", "x"), selected: policy.population(everyone.prefix(20)), parent: parent, k: 5,
                query: .stats)
        }
        #expect(throws: Never.self) {
            try policy.checkFilter(.init("segment", "x"), selected: parent, parent: parent, k: 5, query: .stats)
        }
        do {
            try policy.checkFilter(
                .init("programme", "b"), selected: policy.population(everyone.prefix(1)), parent: parent, k: 5,
                query: .dropouts
            )
        } catch {
            // The refusal names the command that was run, and the filter, as structure.
            #expect(error.query == .dropouts && error.code == "threshold")
            #expect(error.reason == .threshold(filter: .init("programme", "b"), part: .group, k: 5))
        }
        // Exact views are not checked.
        #expect(throws: Never.self) {
            try DisclosurePolicy.exact.checkFilter(
                .init("segment", "x"), selected: Population(size: 1), parent: parent, k: 5, query: .stats)
        }
    }

    @Test("explanations count cells and reasons, never values")
    func explanations() {
        var cells = SuppressedCells(k: 5)
        cells.add(.smallGroup, 2)
        cells.add(.smallCount)
        cells.add(.attribute)
        #expect(
            cells.explanation
                == "4 cells suppressed (k = 5): 2 in groups of fewer than 5 people; 1 counts between 1 and 4; 1 where the figure would be true of everyone in the group"
        )
        #expect(
            cells.summary.description == #"{"k":5,"cells":4,"reasons":{"small-group":2,"small-count":1,"attribute":1}}"#
        )
        #expect(SuppressedCells(k: 5).explanation == "No cell suppressed (k = 5).")
    }

    @Test("roles: who may run what")
    func permissions() {
        func allowed(_ viewer: Viewer, _ query: QueryKind) -> Bool { (try? viewer.permit(query)) != nil }
        #expect(!allowed(.analyst, .tandems) && allowed(.analyst, .statsBySegment) && allowed(.analyst, .atRisk))
        #expect(
            !allowed(.analyst, .audit) && !allowed(.analyst, .goals) && !allowed(.analyst, .sessions)
                && !allowed(.analyst, .suggest))
        #expect(
            allowed(.auditor, .audit) && allowed(.auditor, .tandems) && !allowed(.auditor, .statsBySegment)
                && !allowed(.auditor, .suggest))
        let me = Viewer.participant(ParticipantID("m1")!)
        #expect(
            allowed(me, .tandems) && allowed(me, .sessions) && allowed(me, .goals) && !allowed(me, .stats)
                && !allowed(me, .audit))
        for query in [QueryKind.tandems, .stats, .audit, .goals, .sessions, .suggest, .due, .report, .access] {
            #expect(allowed(.coordinator, query))
        }
    }
}
