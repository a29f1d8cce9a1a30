import Testing

@testable import Projections

/// Work cut into one range per core: every position set once, in place, whatever the count
/// and the number of parts; the first failure in range order is the one reported.
@Suite("Filling an array in parts: every position once, the first failure in order")
struct FillInPartsTests {
    @Test("every position holds what its maker made", arguments: [0, 1, 4095, 4096, 8191, 8192, 100_003])
    func everyPosition(count: Int) throws {
        for parts in [1, 2, 3, 8] {
            var array = [Int](repeating: -1, count: count)
            try fillInParts(&array, parts: parts) { $0 * 3 + 1 }
            let same = array == (0..<count).map { $0 * 3 + 1 }  // compared apart: a diff of 100k
            #expect(same, "count \(count), parts \(parts)")
        }
        // Values with references: strings written into their places by several threads.
        var names = [String](repeating: "", count: count)
        try fillInParts(&names, parts: 4) { "tandem-\($0)-" + String(repeating: "x", count: $0 % 40) }
        let sameNames = names == (0..<count).map { "tandem-\($0)-" + String(repeating: "x", count: $0 % 40) }
        #expect(sameNames)
    }

    struct Refused: Error, Equatable { let position: Int }

    @Test("a failure is thrown: the one in the earliest range when several parts fail")
    func firstFailureInOrder() {
        var array = [Int](repeating: 0, count: 40_000)
        #expect(throws: Refused(position: 12_345)) {
            try fillInParts(&array, parts: 4) { position in
                // Parts 2 and 4 fail (ranges 10,000..<20,000 and 30,000..<40,000).
                if position == 12_345 || position == 35_000 { throw Refused(position: position) }
                return position
            }
        }
        #expect(throws: Refused(position: 7)) {
            try fillInParts(&array, parts: 1) { position in
                if position == 7 { throw Refused(position: position) }
                return position
            }
        }
    }
}
