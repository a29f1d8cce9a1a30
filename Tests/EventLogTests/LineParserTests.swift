import EventLog
import Testing

/// The envelope's optional keys between `data` and `prev`: allowed, reserved, repeated.
@Suite("Line parser: the keys between data and prev")
struct LineParserTests {
    private static let zeros = String(repeating: "0", count: 64)

    private func parse(_ extras: String) -> Result<LineEnvelope, LineDefect> {
        parseLine(
            #"{"seq":2,"at":"2026-01-01T00:00:00Z","actor":"a","type":"T","data":{"x":1}"# + extras
                + #","prev":"\#(Self.zeros)","hash":"\#(Self.zeros)"}"#)
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

    /// Parses a whole line.
    private func parseLine(_ line: String) -> Result<LineEnvelope, LineDefect> {
        Array(line.utf8).withUnsafeBytes { bytes -> Result<LineEnvelope, LineDefect> in
            do throws(LineDefect) {
                return .success(try LineParser.parse(bytes))
            } catch {
                return .failure(error)
            }
        }
    }

    @Test("a batch marker is read however it is spelled, and refused unless it is [first, last] around the seq")
    func batchMarkers() throws {
        for (extras, bounds) in [
            (#","batch":[1,3]"#, 1...3), (#","batch":[ 1 , 3 ]"#, 1...3), (#","b\u0061tch":[2,2]"#, 2...2),
            (#","note":"n","batch":[2,9]"#, 2...9),
        ] {
            #expect(try parse(extras).get().batch == bounds, "\(extras)")
        }
        let refused = [
            (#","batch":[1,3,4]"#, "batch must be [first, last] around the line's seq"),
            (#","batch":[]"#, "batch must be [first, last] around the line's seq"),
            (#","batch":[3]"#, "batch must be [first, last] around the line's seq"),
            (#","batch":[0,3]"#, "batch must be [first, last] around the line's seq"),
            (#","batch":[3,9]"#, "batch must be [first, last] around the line's seq"),
            (#","batch":[1,1]"#, "batch must be [first, last] around the line's seq"),
            (#","batch":[1.5,3]"#, "malformed JSON: expected an integer"),
            (#","batch":[1,99999999999999999999]"#, "malformed JSON: expected an integer"),
            (#","batch":"1-3""#, "malformed JSON: expected '['"),
            (#","b\u0061tch":[2,2],"batch":[2,2]"#, "duplicate key \"batch\""),
        ]
        for (extras, reason) in refused {
            guard case .failure(let defect) = parse(extras) else {
                Issue.record("\(extras) was accepted")
                continue
            }
            #expect(defect.reason == reason, "\(extras)")
        }
    }

    @Test("prev and hash are 64 lowercase hex digits, checked where they stand; anything else is named")
    func digests() {
        let head = #"{"seq":2,"at":"2026-01-01T00:00:00Z","actor":"a","type":"T","data":{"x":1}"#
        let good = String(repeating: "0123456789abcdef", count: 4)
        #expect((try? parseLine(head + #","prev":"\#(good)","hash":"\#(good)"}"#).get()) != nil)
        let wrong: [(prev: String, hash: String, reason: String)] = [
            (good.uppercased(), good, "prev is not 64 lowercase hex digits"),
            (String(good.dropLast()), good, "prev is not 64 lowercase hex digits"),
            (good + "0", good, "prev is not 64 lowercase hex digits"),
            (#"\u0030"# + good.dropFirst(), good, "prev is not 64 lowercase hex digits"),
            (String(good.dropLast()) + "g", good, "prev is not 64 lowercase hex digits"),
            (good, String(good.dropFirst()) + "/", "hash is not 64 lowercase hex digits"),
            (good, good.uppercased(), "hash is not 64 lowercase hex digits"),
            (good, String(good.dropLast(2)) + #"\""#, "hash is not 64 lowercase hex digits"),
        ]
        for (prev, hash, reason) in wrong {
            guard case .failure(let defect) = parseLine(head + #","prev":"\#(prev)","hash":"\#(hash)"}"#) else {
                Issue.record("prev \(prev) hash \(hash) was accepted")
                continue
            }
            #expect(defect.reason == reason, "prev \(prev) hash \(hash): \(defect.reason)")
        }
        // A line cut inside its hash.
        guard case .failure(let cut) = parseLine(head + #","prev":"\#(good)","hash":"\#(good.prefix(20))"#) else {
            Issue.record("a cut hash was accepted")
            return
        }
        #expect(cut.reason == "malformed JSON: unterminated string")
    }

    @Test("a parsed line says where its type, data and optional keys stand")
    func parts() throws {
        for extras in ["", #","batch":[1,3]"#, #","onBehalfOf":{"ref":"r"},"batch":[2,2],"note":"n""#] {
            let line =
                #"{"seq":2,"at":"2026-01-01T00:00:00Z","actor":"a","type":"SessionHeld","data":{"x":{"y":[1]}}"#
                + extras + #","prev":"\#(Self.zeros)","hash":"\#(Self.zeros)"}"#
            let bytes = Array(line.utf8)
            let parts = try parseLine(line).get().parts
            #expect(String(decoding: bytes[parts.type], as: UTF8.self) == "SessionHeld")
            #expect(String(decoding: bytes[parts.data], as: UTF8.self) == #"{"x":{"y":[1]}}"#)
            #expect(String(decoding: bytes[parts.extras], as: UTF8.self) == extras)
        }
    }
}
