import EventLog
import Foundation
import Mentoring

/// A log line as Foundation's `JSONDecoder` reads it: the reference the replay's byte-level
/// decoder is tested against. It shares nothing with that decoder's parsing: Foundation
/// finds the JSON values (escapes, Unicode, numbers, structure), and the events are built
/// from the parsed tree through their descriptions.
public struct FoundationLogLine: Decodable, Sendable {
    public var seq: Int
    public var at: String
    public var actor: String
    public var type: String
    /// The event, nil when its `data` does not fit its description.
    public var event: ProgrammeEvent
    public var onBehalfOf: String?
    public var onBehalfOfRef: PersonalReference?
    public var key: String?
    public var keyDigest: String?
    public var prev: String
    public var hash: String

    enum CodingKeys: String, CodingKey { case seq, at, actor, type, data, onBehalfOf, key, keyDigest, prev, hash }

    struct Unfit: Error {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seq = try c.decode(Int.self, forKey: .seq)
        at = try c.decode(String.self, forKey: .at)
        actor = try c.decode(String.self, forKey: .actor)
        type = try c.decode(String.self, forKey: .type)
        if let object = try? c.decodeIfPresent(AnyJSON.self, forKey: .onBehalfOf), case .object = object.value {
            guard let ref = PersonalReference(json: object.value) else { throw Unfit() }
            onBehalfOfRef = ref
        } else {
            onBehalfOf = try c.decodeIfPresent(String.self, forKey: .onBehalfOf)
        }
        key = try c.decodeIfPresent(String.self, forKey: .key)
        keyDigest = try c.decodeIfPresent(String.self, forKey: .keyDigest)
        prev = try c.decode(String.self, forKey: .prev)
        hash = try c.decode(String.self, forKey: .hash)
        guard case .object(let data) = try c.decode(AnyJSON.self, forKey: .data).value else { throw Unfit() }
        event = try ProgrammeEvent(type: type, data: data)
    }

    /// Decodes one line, or nil when Foundation refuses it or its event does not fit.
    public static func decode(_ line: some Collection<UInt8>) -> FoundationLogLine? {
        try? JSONDecoder().decode(FoundationLogLine.self, from: Data(line))
    }
}

/// Any JSON value, as Foundation's decoder finds it. Object keys come out sorted, since a
/// Swift dictionary keeps no order; events are read by key, so that does not matter.
struct AnyJSON: Decodable {
    var value: JSONValue

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = .null
        } else if let bool = try? c.decode(Bool.self) {
            value = .bool(bool)
        } else if let int = try? c.decode(Int64.self) {
            value = .int(int)
        } else if let double = try? c.decode(Double.self) {
            value = .double(double)
        } else if let string = try? c.decode(String.self) {
            value = .string(string)
        } else if let array = try? c.decode([AnyJSON].self) {
            value = .array(array.map(\.value))
        } else {
            let object = try c.decode([String: AnyJSON].self)
            value = .object(JSONObject(object.sorted { $0.key < $1.key }.map { ($0.key, $0.value.value) }))
        }
    }
}
