import EventLog
import Testing

@testable import Mentoring

/// The envelope's rare fields (on behalf of, key, key digest) are held apart from the event;
/// reading, setting, clearing and comparing them is as it was with stored fields.
@Suite("Recorded events: the envelope's rare fields read, set and compare as stored fields")
struct RecordedEventEnvelopeTests {
    typealias F = Fixture

    static let session = ProgrammeEvent.sessionHeld(
        SessionHeld(tandem: F.t("t1"), on: F.d("2027-02-03"), minutes: 60, mode: .online))
    static let reference = PersonalReference(ref: "r-00112233445566ff", commit: SHA256.hash(Array("x".utf8)))

    @Test("fields given at init are read back; the key is stored hashed, as before")
    func initAndRead() {
        let bare = RecordedEvent(seq: 1, at: Timestamp(secondsSinceEpoch: 0), actor: "a", event: Self.session)
        #expect(bare.onBehalfOf == nil && bare.onBehalfOfRef == nil && bare.key == nil && bare.keyDigest == nil)
        let full = RecordedEvent(
            seq: 1, at: Timestamp(secondsSinceEpoch: 0), actor: "a", onBehalfOf: "Anna", onBehalfOfRef: Self.reference,
            key: "k1", keyDigest: "d", event: Self.session)
        #expect(full.onBehalfOf == "Anna")
        #expect(full.onBehalfOfRef == Self.reference)
        #expect(full.key == IdempotencyKey.stored("k1"))
        #expect(full.keyDigest == "d")
        #expect(full.personalReferences == [Self.reference])
        #expect(full != bare)
    }

    @Test("setting and clearing a field changes that copy alone; equal fields compare equal")
    func setClearCompare() {
        let bare = RecordedEvent(seq: 7, at: Timestamp(secondsSinceEpoch: 9), actor: "a", event: Self.session)
        var changed = bare
        changed.keyDigest = "d"
        let copy = changed
        changed.onBehalfOfRef = Self.reference
        #expect(bare.keyDigest == nil && copy.onBehalfOfRef == nil)
        #expect(changed.keyDigest == "d" && changed.onBehalfOfRef == Self.reference)
        #expect(changed != copy && copy != bare)
        // Built another way, the same fields are the same event.
        let built = RecordedEvent(
            seq: 7, at: Timestamp(secondsSinceEpoch: 9), actor: "a", onBehalfOfRef: Self.reference, keyDigest: "d",
            event: Self.session)
        #expect(built == changed)
        // Cleared field by field, it is the bare event again.
        changed.onBehalfOfRef = nil
        changed.keyDigest = nil
        #expect(changed == bare)
        changed.key = "sha256:" + String(repeating: "0", count: 64)
        changed.onBehalfOf = "B"
        #expect(changed.key == "sha256:" + String(repeating: "0", count: 64) && changed.onBehalfOf == "B")
        #expect(changed != bare)
    }
}
