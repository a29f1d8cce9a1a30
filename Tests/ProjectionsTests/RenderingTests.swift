import EventLog
import Mentoring
import Projections
import Testing

@Suite("Rendering: streamed rows read as the values they stand for")
struct RenderingTests {
    static func result(rows count: Int) -> QueryResult {
        let basis = Basis(
            head: LogHead(seq: 7, hash: .zero), asOf: BusinessDate("2027-06-01")!, asOfGiven: false, knownAt: nil,
            role: .coordinator)
        var result = QueryResult(
            basis: basis, payloadKey: "pairs", payload: .array([.object(["mentor": .string("m1")])]),
            table: TextTable(headers: ["mentor"], rows: [["m1"]]))
        result.extra = [("total", .double(0.5))]
        result.appendRows(
            "candidates",
            JSONRows(count: count) { i, w in
                w.writeRaw(#"{"mentor":"#)
                w.write("m\(i) \"quoted\" ü")
                w.writeRaw(#","score":"#)
                w.write((Double(i) + 0.5) / 8)
                w.writeRaw("}")
            })
        result.extra.append(("rules", .object(["allowSameUnit": .bool(false)])))
        return result
    }

    @Test("the rendered JSON parses to `json`, keys in order, one row per line", arguments: [0, 1, 3, 1000])
    func streamedRowsAgree(count: Int) throws {
        let result = Self.result(rows: count)
        let text = Renderer.render(result, as: .json)
        let parsed = try JSONScanner.parse(text)
        #expect(parsed == result.json)
        #expect(parsed.objectValue?.members.map(\.0) == ["basis", "pairs", "total", "candidates", "rules"])
        let candidates = try #require(parsed.objectValue?["candidates"]?.arrayValue)
        #expect(candidates.count == count)
        if count > 0 {
            #expect(
                candidates[count - 1]
                    == .object([
                        "mentor": .string("m\(count - 1) \"quoted\" ü"),
                        "score": .double((Double(count - 1) + 0.5) / 8),
                    ]))
            let lines = text.split(separator: "\n")
            #expect(lines.filter { $0.hasPrefix(#"    {"mentor":"m"#) && $0.contains(#""score":"#) }.count == count)
        } else {
            #expect(text.contains(#""candidates": []"#))
        }
    }
}
