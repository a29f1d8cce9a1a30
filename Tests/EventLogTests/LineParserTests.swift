import EventLog
import Testing

/// The envelope's optional keys between `data` and `prev`: allowed, reserved, repeated.
@Suite("Line parser: the keys between data and prev")
struct LineParserTests {
    private static let zeros = String(repeating: "0", count: 64)

    private func parse(_ extras: String) -> Result<LineEnvelope, LineDefect> {
        let line =
            #"{"seq":2,"at":"2026-01-01T00:00:00Z","actor":"a","type":"T","data":{"x":1}"# + extras
            + #","prev":"\#(Self.zeros)","hash":"\#(Self.zeros)"}"#
        return Array(line.utf8).withUnsafeBytes { bytes -> Result<LineEnvelope, LineDefect> in
            do throws(LineDefect) {
                return .success(try LineParser.parse(bytes))
            } catch {
                return .failure(error)
            }
        }
    }

    @Test("no extras, a batch marker, and keys of our own are read")
    func accepted() throws {
        #expect(try parse("").get().extras.isEmpty)
        let batched = try parse(#","batch":[1,3]"#).get()
        #expect(batched.batch == 1...3 && batched.extras.isEmpty)
        let two = try parse(#","onBehalfOf":{"ref":"r"},"batch":[2,2],"note":"n""#).get()
        #expect(two.extras.count == 2 && two.batch == 2...2)
    }

    @Test("every reserved key but batch is out of place there, however it is spelled")
    func reservedKeys() {
        // (`prev` ends the extras: it is read as the chain link, not as an extra.)
        for key in LogRecord.reservedKeys where key != "batch" && key != "prev" {
            guard case .failure(let defect) = parse(#","\#(key)":1"#) else {
                Issue.record("\(key) was accepted")
                continue
            }
            #expect(defect.reason == "key \"\(key)\" is out of place")
        }
        // An escaped spelling is the same key.
        guard case .failure(let escaped) = parse(#","\u0073eq":1"#) else {
            Issue.record("an escaped seq was accepted")
            return
        }
        #expect(escaped.reason == "key \"seq\" is out of place")
    }

    @Test("a key given twice is refused, escaped or not")
    func duplicates() {
        for extras in [
            #","note":1,"note":2"#, #","note":1,"batch":[2,2],"note":2"#, #","note":1,"n\u006fte":2"#,
            #","batch":[2,2],"b\u0061tch":[2,2]"#,
        ] {
            guard case .failure(let defect) = parse(extras) else {
                Issue.record("\(extras) was accepted")
                continue
            }
            #expect(defect.reason.hasPrefix("duplicate key"), "\(extras): \(defect.reason)")
        }
    }
}
