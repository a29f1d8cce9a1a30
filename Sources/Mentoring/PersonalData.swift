import EventLog

/// How an event points at its personal data: the vault line's ref and the SHA-256 of that
/// line's bytes. The commitment proves the vault line is the one recorded; the line's random
/// nonce keeps anyone from guessing a name back from the hash.
public struct PersonalReference: Hashable, Sendable, Codable {
    /// The vault line's ref, e.g. `r-3f9a…`, made from `vaultRef` when read.
    public var ref: String {
        get { vaultRef.text }
        set { vaultRef = VaultRef(newValue) }
    }
    /// The ref as held: packed where it has our own shape. A replay reads a reference for
    /// most events and uses few of their refs as text; a heap string made for each, and
    /// released after the fold, was three in a hundred of a cold replay's instructions.
    public private(set) var vaultRef: VaultRef
    /// SHA-256 of the vault line's bytes, without the newline.
    public var commit: SHA256Digest

    public init(ref: String, commit: SHA256Digest) {
        self.init(vaultRef: VaultRef(ref), commit: commit)
    }

    /// A reference to the ref as held. A ref of our shape given as `.other` text is packed
    /// here: equal refs must be equal values, whoever made the `VaultRef`.
    public init(vaultRef: VaultRef, commit: SHA256Digest) {
        if case .other(let text) = vaultRef { self.vaultRef = VaultRef(text) } else { self.vaultRef = vaultRef }
        self.commit = commit
    }

    enum CodingKeys: String, CodingKey { case ref, commit }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        vaultRef = VaultRef(try container.decode(String.self, forKey: .ref))
        let hex = try container.decode(String.self, forKey: .commit)
        guard let digest = SHA256Digest(hex: hex) else {
            throw DecodingError.dataCorruptedError(
                forKey: .commit, in: container, debugDescription: "not 64 hex digits")
        }
        commit = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ref, forKey: .ref)
        try container.encode(commit.hex, forKey: .commit)
    }

    /// Reads `{"ref":…,"commit":…}`; nil for anything else.
    public init?(json: JSONValue?) {
        guard let object = json?.objectValue, let ref = object["ref"]?.stringValue,
            let hex = object["commit"]?.stringValue, let commit = SHA256Digest(hex: hex)
        else { return nil }
        self.init(ref: ref, commit: commit)
    }

    /// `{"ref":…,"commit":…}`.
    public var json: JSONValue { .object(["ref": .string(ref), "commit": .string(commit.hex)]) }
}

/// What a participant tells the programme about themselves: all of it personal data.
public struct Profile: Hashable, Sendable, Codable {
    public var name: String
    public var email: String?
    /// The unit (department). Cross-mentoring pairs people from different units.
    public var unit: String
    /// Hierarchy level: higher is more senior. The mentor is the junior.
    public var level: Int
    public var born: Int
    public var gender: String?
    /// Digital skills they can teach.
    public var offers: [String]
    /// Digital skills they want to learn.
    public var wants: [String]
    public var interests: [String]

    public init(
        name: String, email: String? = nil, unit: String, level: Int, born: Int, gender: String? = nil,
        offers: [String] = [], wants: [String] = [], interests: [String] = []
    ) {
        self.name = name
        self.email = email
        self.unit = unit
        self.level = level
        self.born = born
        self.gender = gender
        self.offers = offers
        self.wants = wants
        self.interests = interests
    }

    /// The generation their birth year falls in.
    public var generation: Generation { Generation(bornIn: born) }

    /// Checks every field, naming the first that is wrong.
    public func validate(signingUpOn date: BusinessDate) throws(DomainError) {
        try Field.text("name", name, maximum: 200)
        if let email {
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
                !parts[1].hasSuffix("."),
                email.count <= 254, !email.contains(where: { $0.isWhitespace })
            else {
                throw .invalidValue(field: "email", value: email, expected: "an address like name@example.org")
            }
        }
        try Field.text("unit", unit, maximum: 100)
        guard (1...20).contains(level) else {
            throw .invalidValue(
                field: "level", value: "\(level)", expected: "a hierarchy level from 1 (most junior) to 20")
        }
        let latest = date.year - 14
        guard born >= 1900, born <= latest else {
            throw .invalidValue(field: "born", value: "\(born)", expected: "a birth year from 1900 to \(latest)")
        }
        if let gender { try Field.text("gender", gender, maximum: 40) }
        try Field.list("offers", offers, maximumItems: 20, maximumLength: 60)
        try Field.list("wants", wants, maximumItems: 20, maximumLength: 60)
        try Field.list("interests", interests, maximumItems: 20, maximumLength: 60)
    }
}

/// A vault payload: a profile, or a piece of confidential text.
public enum PersonalPayload: Hashable, Sendable {
    case profile(Profile)
    /// Session notes: they belong to the tandem, and only its members may read them.
    case notes(String)
    /// A goal's text, e.g. "create a LinkedIn profile".
    case goalText(String)
    /// A free-text reason, e.g. for a withdrawal.
    case reason(String)

    /// The payload as the vault stores it; `kind` first.
    public var json: JSONObject {
        switch self {
        case .profile(let p):
            var object: JSONObject = ["kind": .string("profile"), "name": .string(p.name)]
            if let email = p.email { object["email"] = .string(email) }
            object["unit"] = .string(p.unit)
            object["level"] = .int(Int64(p.level))
            object["born"] = .int(Int64(p.born))
            if let gender = p.gender { object["gender"] = .string(gender) }
            object["offers"] = .array(p.offers.map(JSONValue.string))
            object["wants"] = .array(p.wants.map(JSONValue.string))
            object["interests"] = .array(p.interests.map(JSONValue.string))
            return object
        case .notes(let text): return ["kind": .string("notes"), "text": .string(text)]
        case .goalText(let text): return ["kind": .string("goal"), "text": .string(text)]
        case .reason(let text): return ["kind": .string("reason"), "text": .string(text)]
        }
    }

    /// Reads a payload back; nil if the object is not one.
    public init?(json: JSONObject) {
        switch json["kind"]?.stringValue {
        case "profile":
            guard let name = json["name"]?.stringValue, let unit = json["unit"]?.stringValue,
                let level = json["level"]?.intValue, let born = json["born"]?.intValue
            else { return nil }
            func list(_ key: String) -> [String] { json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            self = .profile(
                Profile(
                    name: name, email: json["email"]?.stringValue, unit: unit, level: Int(level), born: Int(born),
                    gender: json["gender"]?.stringValue, offers: list("offers"), wants: list("wants"),
                    interests: list("interests")))
        case "notes":
            guard let t = json["text"]?.stringValue else { return nil }
            self = .notes(t)
        case "goal":
            guard let t = json["text"]?.stringValue else { return nil }
            self = .goalText(t)
        case "reason":
            guard let t = json["text"]?.stringValue else { return nil }
            self = .reason(t)
        default: return nil
        }
    }

    /// Checks a text payload: not empty, not longer than `maximum`. Line breaks are fine.
    public func validateText(_ field: String, maximum: Int) throws(DomainError) {
        guard let text else { throw .invalidValue(field: field, value: "", expected: "a text") }
        guard !text.trimmed.isEmpty else {
            throw .invalidValue(field: field, value: text, expected: "it must not be empty")
        }
        guard text.count <= maximum else {
            throw .invalidValue(
                field: field, value: String(text.prefix(30)) + "…", expected: "at most \(maximum) characters")
        }
    }

    /// The profile, if this is one.
    public var profile: Profile? { if case .profile(let p) = self { p } else { nil } }

    /// The text, if this is a piece of text.
    public var text: String? {
        switch self {
        case .profile: nil
        case .notes(let t), .goalText(let t), .reason(let t): t
        }
    }
}

/// A payload made ready for the vault: its line (with a random ref and nonce) and the
/// reference an event will carry. Sealing happens before deciding, so that `decide` stays
/// pure; a refused command's sealed lines are simply never written.
///
/// Its parts live in one immutable box: a command is copied on its way from the reading
/// thread through deciding to the vault, and a profile's strings and lists were retained
/// one by one at every copy.
public struct SealedRecord: Hashable, Sendable {
    private final class Parts: Sendable {
        let reference: PersonalReference
        let line: [UInt8]
        let payload: PersonalPayload

        init(reference: PersonalReference, line: [UInt8], payload: PersonalPayload) {
            self.reference = reference
            self.line = line
            self.payload = payload
        }
    }

    private let parts: Parts

    /// What the event carries.
    public var reference: PersonalReference { parts.reference }
    /// The vault line, without its newline.
    public var line: [UInt8] { parts.line }
    /// The payload.
    public var payload: PersonalPayload { parts.payload }

    public static func == (a: SealedRecord, b: SealedRecord) -> Bool {
        a.parts === b.parts || (a.reference == b.reference && a.line == b.line && a.payload == b.payload)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(reference)
        hasher.combine(line)
        hasher.combine(payload)
    }

    /// Seals `payload` with a fresh random ref and nonce.
    ///
    /// The line is written straight into bytes, the same bytes as writing the object
    /// `{"ref":…,"nonce":…,"payload":payload.json}` (a test holds the two together): a
    /// migration seals a profile per signup, and the object's members, strings and arrays
    /// were a third of building one.
    public init(_ payload: PersonalPayload, random: some RandomSource) {
        var writer = JSONWriter(capacity: 192)
        writer.writeRaw(#"{"ref":"r-"#)
        // The draws come in the order `hex(bytes:)` made them: the ref's word, then the
        // nonce's four, each written low byte first.
        writer.writeHex(of: random.next())
        let refEnd = writer.bytes.count
        writer.writeRaw(#"","nonce":""#)
        for _ in 0..<4 { writer.writeHex(of: random.next()) }
        writer.writeRaw(#"","payload":"#)
        payload.write(to: &writer)
        writer.bytes.append(UInt8(ascii: "}"))
        let line = writer.bytes
        let ref = String(decoding: line[(refEnd - 18)..<refEnd], as: UTF8.self)
        parts = Parts(
            reference: PersonalReference(ref: ref, commit: SHA256.hash(line)), line: line, payload: payload)
    }
}

extension PersonalPayload {
    /// Writes `json`'s bytes, without making the object.
    func write(to writer: inout JSONWriter) {
        switch self {
        case .profile(let p):
            writer.writeRaw(#"{"kind":"profile","name":"#)
            writer.write(p.name)
            if let email = p.email {
                writer.writeRaw(#","email":"#)
                writer.write(email)
            }
            writer.writeRaw(#","unit":"#)
            writer.write(p.unit)
            writer.writeRaw(#","level":"#)
            writer.write(p.level)
            writer.writeRaw(#","born":"#)
            writer.write(p.born)
            if let gender = p.gender {
                writer.writeRaw(#","gender":"#)
                writer.write(gender)
            }
            writer.writeRaw(#","offers":"#)
            writer.write(strings: p.offers)
            writer.writeRaw(#","wants":"#)
            writer.write(strings: p.wants)
            writer.writeRaw(#","interests":"#)
            writer.write(strings: p.interests)
            writer.bytes.append(UInt8(ascii: "}"))
        case .notes(let text): Self.write(kind: #"{"kind":"notes","text":"#, text, to: &writer)
        case .goalText(let text): Self.write(kind: #"{"kind":"goal","text":"#, text, to: &writer)
        case .reason(let text): Self.write(kind: #"{"kind":"reason","text":"#, text, to: &writer)
        }
    }

    private static func write(kind prefix: StaticString, _ text: String, to writer: inout JSONWriter) {
        writer.writeRaw(prefix)
        writer.write(text)
        writer.bytes.append(UInt8(ascii: "}"))
    }
}
