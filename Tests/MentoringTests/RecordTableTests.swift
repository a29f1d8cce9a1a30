import EventLog
import Testing

@testable import Mentoring

/// The decider's record table against a dictionary, on seeded random operations.
@Suite("Record table: a dictionary's behaviour in chunks")
struct RecordTableTests {
    private struct Record: Equatable {
        var n: Int
        var list: [Int] = []
    }

    @Test("random inserts, in-place changes and removals agree with a dictionary", arguments: 0..<6)
    func agreesWithDictionary(seed: UInt64) {
        var generator = SeededGenerator(seed: 900 + seed)
        var table = RecordTable<String, Record>()
        var reference: [String: Record] = [:]
        var snapshots: [(RecordTable<String, Record>, [String: Record])] = []
        // Enough keys to fill several chunks, few enough that removals hit often.
        let keySpace = seed < 3 ? 40 : 20_000
        for step in 0..<30_000 {
            let key = "k\(Int.random(in: 0..<keySpace, using: &generator))"
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<4:
                // Through the subscript, or set with one lookup.
                if step % 2 == 0 { table[key] = Record(n: step) } else { table.set(key, Record(n: step)) }
                reference[key] = Record(n: step)
            case 4..<7:
                if step % 2 == 0 {
                    table[key]?.list.append(step)
                } else {
                    let found = table.update(key) { record -> Int in
                        record.list.append(step)
                        return record.n
                    }
                    #expect(found == reference[key]?.n)
                }
                reference[key]?.list.append(step)
                #expect(table.contains(key) == (reference[key] != nil))
            case 7:
                table[key] = nil
                reference[key] = nil
            case 8:
                #expect(table.removeValue(forKey: key) == reference.removeValue(forKey: key))
            default:
                #expect(table[key] == reference[key])
            }
            if step % 5000 == 0 { snapshots.append((table, reference)) }
        }
        #expect(table.count == reference.count)
        #expect(Dictionary(uniqueKeysWithValues: table.map { ($0.key, $0.value) }) == reference)
        #expect(Set(table.keys) == Set(reference.keys))
        #expect(table.values.map(\.n).sorted() == reference.values.map(\.n).sorted())
        // Copies taken along the way were not changed by later writes.
        for (copy, expected) in snapshots {
            #expect(Dictionary(uniqueKeysWithValues: copy.map { ($0.key, $0.value) }) == expected)
        }
    }

    @Test("equality ignores the order records were inserted in")
    func equalityIgnoresOrder() {
        var a = RecordTable<String, Record>(), b = RecordTable<String, Record>()
        for i in 0..<10_000 { a["k\(i)"] = Record(n: i) }
        for i in (0..<10_000).reversed() { b["k\(i)"] = Record(n: i) }
        #expect(a == b)
        b["k5"]?.list.append(1)
        #expect(a != b)
        b["k5"]?.list.removeAll()
        #expect(a == b)
        b["k10000"] = Record(n: 0)
        #expect(a != b)
    }

    @Test("a change made through the subscript is made in place: the record's array is not copied")
    func changesInPlace() {
        var table: RecordTable<String, Record> = ["a": Record(n: 1)]
        table["a"]?.list.reserveCapacity(100)
        let before = table["a"]!.list.withUnsafeBufferPointer { $0.baseAddress }
        for i in 0..<50 {
            table["a"]?.list.append(i)
            #expect(table["a"]!.list.withUnsafeBufferPointer { $0.baseAddress } == before, "append \(i)")
        }
        #expect(table["a"]!.list == Array(0..<50))
        // So is one made through `update`, and `set` replaces a record where it stands.
        for i in 50..<80 {
            table.update("a") { $0.list.append(i) }
            #expect(table["a"]!.list.withUnsafeBufferPointer { $0.baseAddress } == before, "update \(i)")
        }
        #expect(table["a"]!.list == Array(0..<80))
        #expect(table.update("b") { _ in 1 } == nil)
        table.set("b", Record(n: 2))
        table.set("a", Record(n: 3))
        #expect(table.count == 2 && table["a"] == Record(n: 3) && table["b"] == Record(n: 2))
        #expect(Array(table.keys) == ["a", "b"])
    }

    @Test(
        "a chunked store joined to another holds the elements of both in order, whether its chunks were full (shared) or not",
        arguments: [0, 1, 16_383, 16_384, 16_385, 32_768, 40_000])
    func joinsStores(first: Int) {
        var a = ChunkedStore<Int>(), b = ChunkedStore<Int>()
        for i in 0..<first { a.append(i) }
        for i in 0..<20_000 { b.append(first + i) }
        var joined = a
        joined.append(contentsOf: b)
        #expect(Array(joined) == Array(0..<(first + 20_000)))
        // Appended to afterwards, and changed in place, neither half it came from changes.
        joined.append(-1)
        joined[first] = -2
        #expect(joined.count == first + 20_001 && joined[first + 20_000] == -1 && joined[first] == -2)
        #expect(Array(a) == Array(0..<first) && Array(b) == Array(first..<(first + 20_000)))
        // A store whose last chunk was emptied by removals joins element by element.
        var emptied = ChunkedStore<Int>()
        for i in 0..<16_385 { emptied.append(i) }
        emptied.removeLast()
        emptied.append(contentsOf: b)
        #expect(Array(emptied) == Array(0..<16_384) + Array(first..<(first + 20_000)))
    }
}
