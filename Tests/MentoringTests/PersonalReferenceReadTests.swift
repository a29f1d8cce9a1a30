import EventLog
import Testing

@testable import Mentoring

/// A vault reference as this code writes it is read straight on; every other spelling is
/// read member by member. Both readings give the same reference, or the same refusal.
@Suite("Vault references: read straight on as the member-by-member reading reads them")
struct PersonalReferenceReadTests {
    /// The member-by-member reading, through the parsed tree.
    static func plain(_ json: String) -> PersonalReference?? {
        guard let value = try? JSONScanner.parse(json) else { return .some(nil) }
        return .some(PersonalReference(json: value))
    }

    static func read(_ json: String) -> (PersonalReference?, position: Int) {
        Array(json.utf8).withUnsafeBytes { raw in
            var scanner = JSONScanner(raw)
            let reference = try? Result { () throws(JSONSyntaxError) in try PersonalReference.read(&scanner) }.get()
            return (reference, scanner.position)
        }
    }

    @Test("as written, escaped, reordered, spaced, with extra members, and with bad digits")
    func spellings() {
        let digits = "319ba8e8f7238277150df85020f53f243b8fd748eba613b1e1637d8845da4a72"
        let cases: [(String, Bool)] = [
            (#"{"ref":"r-98b633d724eefdd4","commit":"\#(digits)"}"#, true),
            (#"{"ref":"r-\u0039\u00e9","commit":"\#(digits)"}"#, true),
            (#"{"commit":"\#(digits)","ref":"r-1"}"#, true),
            (#"{ "ref" : "r-1" , "commit" : "\#(digits)" }"#, true),
            (#"{"ref":"r-1","commit":"\#(digits)","x":[1,{"y":null}]}"#, true),
            (#"{"ref":"r-1","x":1,"commit":"\#(digits)"}"#, true),
            (#"{"ref":"r-1","commit":"\#(digits.uppercased())"}"#, false),
            (#"{"ref":"r-1","commit":"\#(digits.dropLast())"}"#, false),
            (#"{"ref":"r-1","commit":"\#(digits)0"}"#, false),
            (#"{"ref":"r-1","commit":"\#(digits)"#, false),
            (#"{"ref":"r-1"}"#, false),
            (#"{"ref":1,"commit":"\#(digits)"}"#, false),
            (#"{"ref":"r-1","commit":"\#(digits)"]"#, false),
        ]
        for (json, valid) in cases {
            let (reference, position) = Self.read(json)
            #expect((reference != nil) == valid, "\(json)")
            if valid {
                #expect(reference == Self.plain(json)!, "\(json)")
                #expect(position == json.utf8.count, "\(json) read to \(position)")
            }
        }
        // Read where it stands in a larger document, the scanner left just past it.
        let inside = #"{"ref":"r-1","commit":"\#(digits)"},"batch":[1,2]"#
        #expect(Self.read(inside).position == inside.utf8.count - #","batch":[1,2]"#.utf8.count)
    }
}
