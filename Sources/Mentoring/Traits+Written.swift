import EventLog

extension TraitsDirectory {
    /// The ref and traits of a vault line holding a profile; nil for anything else.
    ///
    /// A line of the shape this code writes is read where its fields stand
    /// (`writtenTraits`); any other goes through the member-by-member reader
    /// (`parseProfileLine`), which defines the answer.
    static func profile(in line: UnsafeRawBufferPointer) -> (VaultRef, Traits)? {
        if let written = writtenTraits(line) { return (.packed(written.key), written.traits) }
        guard holdsProfileMarker(line), let (ref, traits) = parseProfileLine(line) else { return nil }
        return (VaultRef(ref), traits)
    }

    /// The packed ref and traits of a profile line exactly as `Vault` writes one:
    ///
    ///     {"ref":"r-<16 hex>","nonce":"<64 hex>","payload":{"kind":"profile","name":…[,"email":…],
    ///     "unit":…,"level":…,"born":…[,"gender":…],"offers":…,"wants":…,"interests":…}}
    ///
    /// with no space between tokens. Each key is matched where it stands, every value is
    /// still read whole (strings, lists and numbers are checked as the member reader checks
    /// them), and the ref becomes a number without a string made for it. Nil for a line of
    /// any other shape: then `parseProfileLine` reads it. Where this answers, it answers as
    /// that reader would: the keys are exactly these, each once, so "the last one read wins"
    /// has nothing to choose between, and both ignore what follows the line's object.
    ///
    /// A profile line parsed member by member was a tenth of a cold replay (the traits
    /// filled in from the vault at its end), most of it reading keys and making refs.
    static func writtenTraits(_ line: UnsafeRawBufferPointer) -> (key: UInt64, traits: Traits)? {
        // The payload's start stands at a fixed place (after the ref's 18 bytes and the
        // nonce's 64): tested first, it turns other payloads away before any digit is read.
        let refAt = 8, nonceAt = refAt + 18 + 11, payloadAt = nonceAt + 64
        var s = JSONScanner(line, position: payloadAt)
        var head = JSONScanner(line), middle = JSONScanner(line, position: refAt + 18)
        guard s.consume("\",\"payload\":{\"kind\":\"profile\",\"name\":"), head.consume("{\"ref\":\""),
            middle.consume("\",\"nonce\":\""),
            let key = PackedRef.pack(bytes: UnsafeRawBufferPointer(rebasing: line[refAt..<(refAt + 18)])),
            SHA256Digest.isHex(UnsafeRawBufferPointer(rebasing: line[nonceAt..<payloadAt]))
        else { return nil }
        do throws(JSONSyntaxError) {
            try s.skipValue()
            if s.consume(",\"email\":") { try s.skipValue() }
            guard s.consume(",\"unit\":") else { return nil }
            let unit = try s.parseString()
            guard s.consume(",\"level\":") else { return nil }
            let level = Int(try s.parseInt())
            guard s.consume(",\"born\":") else { return nil }
            let born = Int(try s.parseInt())
            var gender: String? = nil
            if s.consume(",\"gender\":") { gender = s.consume("null") ? nil : try s.parseString() }
            guard s.consume(",\"offers\":") else { return nil }
            try s.skipValue()
            guard s.consume(",\"wants\":") else { return nil }
            try s.skipValue()
            guard s.consume(",\"interests\":") else { return nil }
            try s.skipValue()
            guard s.consume("}}") else { return nil }
            return (key, Traits(unit: unit, level: level, born: born, gender: gender))
        } catch {
            return nil
        }
    }
}
