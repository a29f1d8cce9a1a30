import EventLog
import EventOracle
import Foundation
import Mentoring
import TestSupport
import Testing

/// The replay decoder is checked against Foundation's `JSONDecoder` (through
/// `FoundationLogLine`): on every line a demo and a set of awkward commands write, on the same
/// lines with their text written as escapes, and on seeded random mutations of them.
@Suite("Replay decoder agrees with JSONDecoder", .serialized)
struct DecoderAgreementTests {
    /// A store with the demo's events, plus events whose text needs escapes and non-ASCII.
    static func lines() throws -> [[UInt8]] {
        let cli = CLI()
        let demo = try cli.run([
            "demo", "--store", cli.store, "--participants", "50", "--seed", "4", "--until", "2027-01-20",
        ])
        #expect(demo.status == 0, "\(demo.stderr)")
        let awkward = ["TANDEM_ACTOR": "Jörg Ünal \"JÜ\" \\ 東京 😀"]
        func run(_ arguments: [String]) throws {
            let outcome = try cli.run(arguments, extra: awkward)
            #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
        }
        try run([
            "programme", "launch", "--id", "p2", "--name", "Piloten für \"Größere\" Teams, slash / backslash \\ 🎉",
            "--starts", "2027-01-01", "--ends", "2027-12-31",
        ])
        try run([
            "signup", "--programme", "p2", "--role", "mentor", "--name", "Zoë", "--unit", "Öffentlichkeit", "--level",
            "2", "--born", "1999",
            "--id", "m1", "--on", "2027-01-02",
        ])
        try run([
            "signup", "--programme", "p2", "--role", "mentee", "--name", "Ågot", "--unit", "Öffentlichkeit", "--level",
            "9", "--born", "1966",
            "--id", "e1", "--on", "2027-01-02",
        ])
        try run([
            "match", "--programme", "p2", "--mentor", "m1", "--mentee", "e1", "--id", "t-p2", "--on", "2027-01-03",
            "--override", "Gleiche Einheit: ausdrücklich gewünscht \u{1F91D} \"ok\"", "--on-behalf-of",
            "Ünal, \"Büro\"",
        ])
        try run(["session", "--tandem", "t-p2", "--on", "2027-01-04", "--minutes", "50", "--key", "schlüssel-1 ✓"])
        let head = try Store(root: cli.store).events.readHead().seq
        try run(["void", "--seq", String(head), "--reason", "doppelt erfasst — \"Fehler\" \\ ✗"])
        return Files.read(cli.store + "/events.jsonl").split(separator: 0x0A).map(Array.init)
    }

    enum Outcome: Equatable {
        case refused
        case decoded(
            at: Timestamp, actor: String, event: ProgrammeEvent?, onBehalfOf: String?, key: String?, keyDigest: String?)
    }

    static func ours(_ line: [UInt8], seq: Int) -> Outcome {
        guard
            let recorded = try? line.withUnsafeBytes({ raw in
                try Result { () throws(EventDecodingError) in try EventDecoder.decode(raw, seq: seq) }.get()
            })
        else { return .refused }
        var event: ProgrammeEvent? = recorded.event
        if case .unknown = recorded.event { event = nil }
        if case .logCreated = recorded.event { event = nil }
        return .decoded(
            at: recorded.at, actor: recorded.actor, event: event, onBehalfOf: recorded.onBehalfOf, key: recorded.key,
            keyDigest: recorded.keyDigest)
    }

    static func reference(_ line: [UInt8]) -> Outcome {
        guard let decoded = FoundationLogLine.decode(line),
            let at = Timestamp(rfc3339: decoded.at)
        else { return .refused }
        var event: ProgrammeEvent? = decoded.event
        if case .logCreated = decoded.event { event = nil }
        if case .unknown = decoded.event { event = nil }
        return .decoded(
            at: at, actor: decoded.actor, event: event, onBehalfOf: decoded.onBehalfOf, key: decoded.key,
            keyDigest: decoded.keyDigest)
    }

    @Test("every line of the demo and of awkward commands decodes as JSONDecoder decodes it")
    func everyLineAgrees() throws {
        let lines = try Self.lines()
        #expect(lines.count > 300)
        var nonASCII = 0, escaped = 0
        for (index, line) in lines.enumerated() {
            let reference = Self.reference(line)
            #expect(reference != .refused, "line \(index + 1) should be valid")
            #expect(
                Self.ours(line, seq: index + 1) == reference,
                "line \(index + 1): \(String(decoding: line, as: UTF8.self))")
            if line.contains(where: { $0 >= 0x80 }) { nonASCII += 1 }
            if line.contains(0x5C) { escaped += 1 }
        }
        #expect(nonASCII >= 6 && escaped >= 4, "the awkward lines are there")
    }

    /// A line with every non-ASCII character, slash and letter é of its strings written as
    /// \u escapes (surrogate pairs above the BMP), and "/" as "\/": the same JSON value.
    static func escapingEverything(_ line: [UInt8]) -> [UInt8] {
        let text = String(decoding: line, as: UTF8.self)
        var out = ""
        var inString = false, escapeNext = false, key = true, depth = 0
        for scalar in text.unicodeScalars {
            if !inString {
                if scalar == "\"" { inString = true }
                if scalar == "{" {
                    depth += 1
                    key = true
                } else if scalar == "," {
                    key = true
                } else if scalar == ":" {
                    key = false
                }
                out.unicodeScalars.append(scalar)
                continue
            }
            if escapeNext {
                escapeNext = false
                out.unicodeScalars.append(scalar)
                continue
            }
            if scalar == "\\" {
                escapeNext = true
                out.unicodeScalars.append(scalar)
                continue
            }
            if scalar == "\"" {
                inString = false
                out.unicodeScalars.append(scalar)
                continue
            }
            // Keys, and the prev/hash digits, stay as they are.
            if key {
                out.unicodeScalars.append(scalar)
                continue
            }
            if scalar.value >= 0x80 {
                if scalar.value > 0xFFFF {
                    let v = scalar.value - 0x10000
                    out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                } else {
                    out += String(format: "\\u%04X", scalar.value)
                }
            } else if scalar == "/" {
                out += "\\/"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return Array(out.utf8)
    }

    @Test("the same lines with their text written as \\u escapes decode the same")
    func escapedLinesAgree() throws {
        let lines = try Self.lines()
        var changed = 0
        for (index, line) in lines.enumerated() {
            let escaped = Self.escapingEverything(line)
            if escaped != line { changed += 1 }
            let reference = Self.reference(escaped)
            #expect(reference != .refused)
            // (Ids have neither non-ASCII nor slashes, so none is escaped: an escaped id is the
            // one thing the decoder refuses that JSON allows, and the writer never makes one.)
            #expect(
                Self.ours(escaped, seq: index + 1) == reference,
                "line \(index + 1): \(String(decoding: escaped, as: UTF8.self))")
        }
        #expect(changed >= 6)
    }

    /// One decoder keeps the last actor and time it read: a stream of lines, ordered and
    /// shuffled, with escaped and mangled lines between, reads as lines read one by one do.
    @Test("one decoder over a stream reads every line as a fresh decoder reads it")
    func streamAgreesWithSingleLines() throws {
        let lines = try Self.lines()
        var generator = SeededGenerator(seed: 1206)
        var stream = lines.enumerated().map { ($0.offset + 1, $0.element) }
        for _ in 0..<3 {
            stream += lines.enumerated().shuffled(using: &generator).map { ($0.offset + 1, $0.element) }
        }
        stream += lines.enumerated().map { ($0.offset + 1, Self.escapingEverything($0.element)) }
        for _ in 0..<400 {
            let index = Int.random(in: 0..<lines.count, using: &generator)
            var line = lines[index]
            // A time or actor changed by one byte, or an actor written empty or escaped.
            let text = String(decoding: line, as: UTF8.self)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:
                if let range = text.range(of: #""at":"[0-9T:-]+Z""#, options: .regularExpression) {
                    var at = Array(text[range].utf8)
                    at[Int.random(in: 6..<(at.count - 2), using: &generator)] = UInt8.random(
                        in: 48...57, using: &generator)
                    line = Array(text.replacingCharacters(in: range, with: String(decoding: at, as: UTF8.self)).utf8)
                }
            case 1:
                if let range = text.range(of: #""actor":"[^"\\]*""#, options: .regularExpression) {
                    line = Array(text.replacingCharacters(in: range, with: #""actor":"""#).utf8)
                }
            case 2:
                if let range = text.range(of: #""actor":"[^"\\]*""#, options: .regularExpression) {
                    line = Array(text.replacingCharacters(in: range, with: #""actor":"\u0063oordinator""#).utf8)
                }
            default:
                line[Int.random(in: 0..<line.count, using: &generator)] ^= 0x01
            }
            stream.insert((index + 1, line), at: Int.random(in: 0...stream.count, using: &generator))
        }
        var decoder = EventDecoder()
        var read = 0
        for (seq, line) in stream {
            let streamed = line.withUnsafeBytes { raw in
                try? Result { () throws(EventDecodingError) in
                    try decoder.decode(LogLine(bytes: raw, offset: 0, seq: seq))
                }
                .get()
            }
            let single = line.withUnsafeBytes { raw in
                try? Result { () throws(EventDecodingError) in try EventDecoder.decode(raw, seq: seq) }.get()
            }
            #expect(streamed == single, "\(String(decoding: line, as: UTF8.self))")
            if streamed != nil { read += 1 }
        }
        #expect(read > lines.count * 4)
    }

    /// prev and hash are checked where they stand, not scanned as strings: what the scan
    /// refused is refused, and so are digits that are not lowercase hex.
    @Test("a line whose prev or hash is not 64 lowercase hex digits, or which goes on after them, is refused")
    func prevAndHashWhereTheyStand() throws {
        let line = try Self.lines()[5]
        let text = String(decoding: line, as: UTF8.self)
        let prevAt = text.range(of: #","prev":""#)!.upperBound
        let prev = String(text[prevAt...].prefix(64))
        let hashAt = text.range(of: #","hash":""#)!.upperBound
        let hash = String(text[hashAt...].prefix(64))
        let head = String(text[..<prevAt])
        func decodes(_ candidate: String) -> Bool {
            Array(candidate.utf8).withUnsafeBytes { raw in
                (try? Result { () throws(EventDecodingError) in try EventDecoder.decode(raw, seq: 6) }.get()) != nil
            }
        }
        #expect(decodes(head + prev + #"","hash":""# + hash + #""}"#))
        let refused = [
            head + prev.uppercased() + #"","hash":""# + hash + #""}"#,
            head + prev + #"","hash":""# + hash.uppercased() + #""}"#,
            head + prev.dropLast() + #"","hash":""# + hash + #""}"#,
            head + prev + #"","hash":""# + hash + #"0"}"#,
            head + prev + #"","hash":""# + hash + #""} "#,
            head + prev + #"","hash":""# + hash + #""}}"#,
            head + prev + #"" ,"hash":""# + hash + #""}"#,
            head + prev + #"","hash" :""# + hash + #""}"#,
            head + prev + #"","hesh":""# + hash + #""}"#,
            head + #"\u0030"# + prev.dropFirst() + #"","hash":""# + hash + #""}"#,
            head + prev.dropLast() + #"\"","hash":""# + hash + #""}"#,
            head + prev + #"","hash":""# + hash.dropLast() + "g" + #""}"#,
            head + prev + #"","hash":""# + hash,
        ]
        for candidate in refused {
            #expect(!decodes(candidate), "\(candidate.suffix(150))")
            let error = Array(candidate.utf8).withUnsafeBytes { raw -> EventDecodingError? in
                do throws(EventDecodingError) {
                    _ = try EventDecoder.decode(raw, seq: 6)
                    return nil
                } catch { return error }
            }
            #expect(
                error?.reason.hasPrefix("the line does not end with prev and hash") == true,
                "\(String(describing: error))")
        }
    }

    @Test(
        "seeded mutations: what JSONDecoder refuses, the decoder refuses; what both read, they read alike",
        arguments: 0..<4)
    func mutationsAgree(seed: Int) throws {
        let lines = try Self.lines()
        var generator = SeededGenerator(seed: UInt64(seed) &+ 4242)
        let alphabet = Array("{}[]\":,0123456789-.eE+ntrufalse\\/ \u{00}\u{1F}é😀".utf8)
        var refusedByBoth = 0, readByBoth = 0
        for _ in 0..<1500 {
            let index = Int.random(in: 0..<lines.count, using: &generator)
            var line = lines[index]
            switch Int.random(in: 0..<6, using: &generator) {
            case 0:
                line[Int.random(in: 0..<line.count, using: &generator)] ^= UInt8(
                    1 << Int.random(in: 0..<8, using: &generator))
            case 1: line.remove(at: Int.random(in: 0..<line.count, using: &generator))
            case 2:
                line.insert(
                    alphabet.randomElement(using: &generator)!, at: Int.random(in: 0...line.count, using: &generator))
            case 3: line = Array(line.prefix(Int.random(in: 0..<line.count, using: &generator)))
            case 4:
                // A duplicated member inside data.
                let text = String(decoding: line, as: UTF8.self)
                if let range = text.range(of: #""on":"[0-9-]+","#, options: .regularExpression) {
                    line = Array(
                        text.replacingCharacters(in: range, with: String(text[range]) + String(text[range])).utf8)
                }
            default:
                // A value of another type.
                let text = String(decoding: line, as: UTF8.self)
                if let range = text.range(of: #""minutes":[0-9]+"#, options: .regularExpression) {
                    line = Array(text.replacingCharacters(in: range, with: #""minutes":"60""#).utf8)
                }
            }
            let reference = Self.reference(line), ours = Self.ours(line, seq: index + 1)
            if reference == .refused {
                #expect(
                    ours == .refused, "JSONDecoder refuses, the decoder reads: \(String(decoding: line, as: UTF8.self))"
                )
                refusedByBoth += ours == .refused ? 1 : 0
            } else if ours != .refused {
                #expect(ours == reference, "both read it, differently: \(String(decoding: line, as: UTF8.self))")
                readByBoth += 1
            }
        }
        #expect(refusedByBoth > 300 && readByBoth > 100, "refused by both \(refusedByBoth), read by both \(readByBoth)")
    }
}
