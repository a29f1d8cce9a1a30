import Mentoring

/// Every participant of the read model, stored compactly: a row of 64 bytes each (dates as
/// 32-bit day numbers, traits as one word with units and genders interned, the vault ref as
/// a number, the active tandem as its row number), found through a 4-byte-per-slot index.
/// A store of ten million events holds over a million people; as a dictionary of
/// `PersonView` they took about 500 MB, as rows under 100 MB.
///
/// `PeopleTable` is the public face: it hands out `PersonView` values, built on the fly.
struct PeopleRows: Sendable {
    struct Row: Sendable {
        var id: ParticipantID
        var traits: UInt64
        var ref: UInt64
        var signedUpOn: Int32
        var withdrawnOn: Int32
        var firstMatchedOn: Int32
        var lastEndOn: Int32
        /// The row of their active tandem (−1: none).
        var activeTandem: Int32
        var programme: UInt32
        var flags: Flags
        var reason: UInt8
        var lastEndStatus: UInt8
        var isMentor: Bool
    }

    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        static let erased = Flags(rawValue: 1)
        static let withdrewBeforeMatch = Flags(rawValue: 2)
        /// `traits` holds packed traits.
        static let packedTraits = Flags(rawValue: 4)
        /// The traits did not pack: they are in `otherTraits`.
        static let otherTraits = Flags(rawValue: 8)
        /// `ref` holds a packed vault ref.
        static let packedRef = Flags(rawValue: 16)
        /// The ref did not pack: it is in `otherRefs`.
        static let otherRef = Flags(rawValue: 32)
    }

    // Internal, not private: the snapshot's codec (PeopleTable+Snapshot.swift) writes and
    // reads them as they are.
    var rows = ChunkedRows<Row>()
    var index = RowIndex()
    var programmes = Interned<ProgrammeID>()
    var codec = TraitsCodec()
    var otherTraits: [Int32: Traits] = [:]
    var otherRefs: [Int32: String] = [:]

    /// How many people there are.
    var count: Int { rows.count }

    /// A participant's id.
    func id(ofRow number: Int32) -> ParticipantID { rows[number].id }

    /// The rows of a programme's (or every) participants, in id order.
    func rowsInIDOrder(programme: ProgrammeID?) -> [Int32] {
        let wanted = programme.map { programmes.existingNumber($0).map(UInt32.init) ?? .max }
        return rows.numbers(naturallySortedBy: \.id.rawValue) { wanted == nil || $0.programme == wanted! }
    }

    /// The rows of a programme's participants who have not withdrawn and are in no active
    /// tandem, in id order: sorted after filtering (a large programme's waiting list is a
    /// few percent of its people).
    func waitingRowsInIDOrder(programme: ProgrammeID) -> [Int32] {
        guard let wanted = programmes.existingNumber(programme).map(UInt32.init) else { return [] }
        return rows.numbers(naturallySortedBy: \.id.rawValue) {
            $0.programme == wanted && BusinessDate?(stored: $0.withdrawnOn) == nil && $0.activeTandem < 0
        }
    }

    /// The rows of the people of `programmes`, in row order (the order they signed up in).
    func rows(in programmes: Set<ProgrammeID>) -> [Int32] {
        let wanted = self.programmes.mask(of: programmes)
        return rows.numbers { wanted.contains($0.programme) }
    }

    /// The rows of the people of some programmes whose group `segment` admits, ascending,
    /// read from the rows (no view is made: a million people's views were most of a
    /// `--segment` query's 600–780 MB on the 10M store).
    /// - Complexity: O(people); one group name is made per distinct role, programme or
    ///   packed traits (see `segments(in:by:)`).
    func rows(in programmes: Set<ProgrammeID>, admittedBy segment: SegmentFilter) -> [Int32] {
        let grouped = segments(in: programmes, by: segment.key)
        let admitted = grouped.names.map(segment.admits(label:))
        var out: [Int32] = []
        for (number, group) in zip(grouped.rows, grouped.group) where admitted[Int(group)] { out.append(number) }
        return out
    }

    /// Flags by row: whether each of `numbers` is among them (for the tandems of some people).
    func marking(_ numbers: [Int32]) -> [Bool] {
        var marked = [Bool](repeating: false, count: rows.count)
        for number in numbers { marked[Int(number)] = true }
        return marked
    }

    /// Adds a participant, or replaces the one with the same id; `activeTandem` is the row
    /// of `person.activeTandem` (its id is not looked at).
    mutating func upsert(_ person: PersonView, activeTandem: Int32 = -1) {
        if let existing = row(of: person.id) {
            rows[existing] = makeRow(person, number: existing, activeTandem: activeTandem)
        } else {
            appendNew(person, activeTandem: activeTandem)
        }
    }

    /// Adds a participant known not to be here yet (a snapshot's rows, each written once):
    /// no lookup first.
    mutating func appendNew(_ person: PersonView, activeTandem: Int32 = -1) {
        assert(row(of: person.id) == nil, "appendNew of a participant already here")
        let number = Int32(rows.count)
        rows.append(makeRow(person, number: number, activeTandem: activeTandem))
        let rows = self.rows
        index.insert(row: number, hash: Self.hash(person.id)) { Self.hash(rows[$0].id) }
    }

    /// The row of a participant's active tandem (−1: none).
    func activeTandemRow(_ number: Int32) -> Int32 { rows[number].activeTandem }

    /// The index's hash of an id: the snapshot lookup's (stable across processes), so that
    /// a load can take the lookup's slots as the index.
    static func hash(_ id: ParticipantID) -> Int { Int(truncatingIfNeeded: StableHash.fnv1a(id.rawValue)) }

    /// Asks the CPU for what finding the row of an id of this `hash` will read
    /// (`RowIndex.prefetch`).
    @inline(__always)
    func prefetch(hash: Int, stage: PrefetchStage) { index.prefetch(hash: hash, stage: stage, in: rows) }

    /// The row number of a participant.
    func row(of id: ParticipantID) -> Int32? {
        index.find(hash: Self.hash(id)) { rows[$0].id == id }
    }

    /// Changes a participant's row in place (the fold's commonest changes need no view).
    mutating func update(_ number: Int32, _ change: (inout Row) -> Void) {
        change(&rows[number])
    }

    /// Their traits and vault ref go (an erasure).
    mutating func erase(_ number: Int32) {
        rows[number].flags.insert(.erased)
        rows[number].flags.subtract([.packedTraits, .otherTraits, .packedRef, .otherRef])
        otherTraits[number] = nil
        otherRefs[number] = nil
    }

    /// Gives everyone without traits whose profile is in the vault the traits of that
    /// profile: what folding with a `TraitsDirectory` does, in one streaming pass after the
    /// fold and with an index of 4 bytes per person instead of a directory of every profile.
    /// - Throws: `SystemError` if the vault cannot be read.
    mutating func fillTraits(from vault: Vault) throws {
        func hash(ofRow n: Int32) -> Int {
            let r = rows[n]
            if r.flags.contains(.packedRef) { return Self.hash(packedRef: r.ref) }
            if let text = otherRefs[n] { return text.hashValue }
            return Int(n)
        }
        var byRef = RowIndex()
        byRef.reserveCapacity(rows.count) { hash(ofRow: $0) }
        for n in 0..<Int32(rows.count) { byRef.insert(row: n, hash: hash(ofRow: n)) { hash(ofRow: $0) } }
        try TraitsDirectory.forEachProfileRef(in: vault) { ref, traits in
            let found: Int32?
            switch ref {
            case .packed(let key):
                found = byRef.find(hash: Self.hash(packedRef: key)) {
                    self.rows[$0].flags.contains(.packedRef) && self.rows[$0].ref == key
                }
            case .other(let ref):
                found = byRef.find(hash: ref.hashValue) { self.otherRefs[$0] == ref }
            }
            guard let n = found, !self.rows[n].flags.contains(.packedTraits), !self.rows[n].flags.contains(.otherTraits)
            else { return }
            if let word = codec.pack(traits) {
                self.rows[n].traits = word
                self.rows[n].flags.insert(.packedTraits)
            } else {
                otherTraits[n] = traits
                self.rows[n].flags.insert(.otherTraits)
            }
        }
    }

    /// How many people have a profile ref but no traits yet.
    var withoutTraits: Int {
        var count = 0
        for n in 0..<Int32(rows.count) {
            let flags = rows[n].flags
            if flags.isDisjoint(with: [.packedTraits, .otherTraits])
                && !flags.isDisjoint(with: [.packedRef, .otherRef])
            {
                count += 1
            }
        }
        return count
    }

    /// Gives everyone without traits the traits `lookup` finds for their profile's ref: the
    /// same as `fillTraits(from:)` when `lookup` answers from the same vault.
    mutating func fillTraits(_ lookup: (String) throws -> Traits?) rethrows {
        // Asked for in the refs' byte order, which an index walks forward: a packed ref's
        // number sorts as its hex does, and the few refs of other shapes follow.
        var packed: [(ref: UInt64, row: Int32)] = []
        var other: [(ref: String, row: Int32)] = []
        for n in 0..<Int32(rows.count) {
            let row = rows[n]
            guard !row.flags.contains(.packedTraits), !row.flags.contains(.otherTraits) else { continue }
            if row.flags.contains(.packedRef) {
                packed.append((row.ref, n))
            } else if let text = otherRefs[n] {
                other.append((text, n))
            }
        }
        packed.sort { $0.ref < $1.ref }
        other.sort { $0.ref.utf8.lexicographicallyPrecedes($1.ref.utf8) }
        func fill(_ n: Int32, _ ref: String) throws {
            guard let traits = try lookup(ref) else { return }
            if let word = codec.pack(traits) {
                rows[n].traits = word
                rows[n].flags.insert(.packedTraits)
            } else {
                otherTraits[n] = traits
                rows[n].flags.insert(.otherTraits)
            }
        }
        for (key, n) in packed { try fill(n, PackedRef.unpack(key)) }
        for (ref, n) in other { try fill(n, ref) }
    }

    /// Our refs are random hex: a multiply spreads them over the table.
    private static func hash(packedRef key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 17)
    }

    /// The people of some programmes as the headline figures count them, read from the
    /// rows (no view is made): how many there are, their rows in order (if `collectingRows`:
    /// only a perturbed population needs them, for its record keys), and how many are
    /// mentors, were ever matched, wait (as `PersonView.isWaiting` says) and withdrew.
    func headline(
        in wanted: Set<ProgrammeID>, collectingRows: Bool = true
    ) -> Headline {
        let numbers = programmes.mask(of: wanted)
        // Rows, not ids: a quarter of the bytes (a million ids, grown by doubling, were
        // 34 MB of an analyst's `stats` on the 10M store).
        var headline = Headline()
        if collectingRows { headline.rows.reserveCapacity(rows.count) }
        for number in 0..<Int32(rows.count) {
            let r = rows[number]
            guard numbers.contains(r.programme) else { continue }
            headline.count(r, number, collectingRow: collectingRows)
        }
        return headline
    }

    /// `headline(in:collectingRows:)` of the people in `numbers` (a segment's), collecting
    /// their rows in its order.
    func headline(ofRows numbers: [Int32]) -> Headline {
        var headline = Headline()
        headline.rows.reserveCapacity(numbers.count)
        for number in numbers { headline.count(rows[number], number, collectingRow: true) }
        return headline
    }

    /// What `stats` counts of people: how many there are, are mentors, were ever matched,
    /// wait for a partner and withdrew; with their rows if collected.
    struct Headline {
        var count = 0, rows: [Int32] = [], mentors = 0, matched = 0, waiting = 0, withdrawn = 0

        fileprivate mutating func count(_ r: Row, _ number: Int32, collectingRow: Bool) {
            count += 1
            if collectingRow { rows.append(number) }
            if r.isMentor { mentors += 1 }
            if BusinessDate?(stored: r.firstMatchedOn) != nil { matched += 1 }
            let hasWithdrawn = BusinessDate?(stored: r.withdrawnOn) != nil
            if hasWithdrawn { withdrawn += 1 }
            let completedLast =
                BusinessDate?(stored: r.lastEndOn) != nil && TandemStatus?(stored: r.lastEndStatus) == .completed
            if !hasWithdrawn && r.activeTandem < 0 && !completedLast { waiting += 1 }
        }
    }

    /// The people of some programmes by their group under `key`, read from the rows (no
    /// view is made), in row order (the order of `headline`'s ids).
    /// - Returns: the groups' names, as `SegmentKey.value(of:)` gives them; and for each
    ///   person their row, their group (an index into `names`) and whether they withdrew.
    /// - Complexity: O(people); one name is made per distinct role, programme or packed
    ///   traits, not per person.
    func segments(in wanted: Set<ProgrammeID>, by key: SegmentKey) -> Segments {
        let numbers = programmes.mask(of: wanted)
        var out = Segments()
        out.rows.reserveCapacity(rows.count)
        out.group.reserveCapacity(rows.count)
        out.withdrawn.reserveCapacity(rows.count)
        var named: [String: Int32] = [:]
        // Keyed by all a name depends on: the role, the programme and the packed traits.
        var seen = SegmentMemo()
        func group(_ name: String) -> Int32 {
            if let g = named[name] { return g }
            let g = Int32(out.names.count)
            out.names.append(name)
            named[name] = g
            return g
        }
        for number in 0..<Int32(rows.count) {
            let r = rows[number]
            guard numbers.contains(r.programme) else { continue }
            let role: Role = r.isMentor ? .mentor : .mentee
            let programme = programmes.values[Int(r.programme)]
            let g: Int32
            if r.flags.contains(.otherTraits) {
                g = group(key.value(role: role, programme: programme, traits: otherTraits[number]))
            } else {
                let packed = r.flags.contains(.packedTraits)
                let traits = packed ? r.traits : 0
                let tag = UInt64(r.programme) << 2 | (r.isMentor ? 2 : 0) | (packed ? 1 : 0)
                if let known = seen[traits, tag] {
                    g = known
                } else {
                    g = group(
                        key.value(role: role, programme: programme, traits: packed ? codec.unpack(r.traits) : nil))
                    seen.insert(traits, tag, g)
                }
            }
            out.rows.append(number)
            out.group.append(g)
            out.withdrawn.append(BusinessDate?(stored: r.withdrawnOn) != nil)
        }
        return out
    }

    /// The days a person signed up and withdrew, from their row.
    func dates(_ number: Int32) -> (signedUpOn: BusinessDate, withdrawnOn: BusinessDate?) {
        let r = rows[number]
        return (BusinessDate(dayNumber: Int(r.signedUpOn)), BusinessDate?(stored: r.withdrawnOn))
    }

    /// What `dropouts` reads of a person, from their row: no view is made (its traits, ref
    /// and tandem id are not read).
    func standing(
        _ number: Int32
    ) -> (
        id: ParticipantID, isMentor: Bool, programme: ProgrammeID, withdrewBeforeMatch: Bool, reason: ReasonCode?,
        standing: DropoutsQuery.Standing
    ) {
        let r = rows[number]
        var completedOn: BusinessDate?
        if r.activeTandem < 0, TandemStatus?(stored: r.lastEndStatus) == .completed {
            completedOn = BusinessDate?(stored: r.lastEndOn)
        }
        return (
            r.id, r.isMentor, programmes.values[Int(r.programme)], r.flags.contains(.withdrewBeforeMatch),
            ReasonCode?(stored: r.reason),
            DropoutsQuery.Standing(
                firstMatchedOn: BusinessDate?(stored: r.firstMatchedOn),
                withdrawnOn: BusinessDate?(stored: r.withdrawnOn),
                completedOn: completedOn)
        )
    }

    /// People by group; see `segments(in:by:)`.
    /// The group of each (traits, programme and role) seen so far: a small open-addressing
    /// table with a multiplicative hash. As a dictionary, hashing a million keys with the
    /// standard hasher was half of `segments` on the 10M store.
    struct SegmentMemo {
        private var keys: [(traits: UInt64, tag: UInt64)] = Array(repeating: (0, 0), count: 64)
        /// The group + 1 in each slot (0: empty).
        private var groups = [Int32](repeating: 0, count: 64)
        private var used = 0

        private static func slot(_ traits: UInt64, _ tag: UInt64, mask: Int) -> Int {
            let mixed = (traits ^ (tag &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
            return Int(truncatingIfNeeded: mixed >> 32) & mask
        }

        subscript(traits: UInt64, tag: UInt64) -> Int32? {
            let mask = groups.count - 1
            var i = Self.slot(traits, tag, mask: mask)
            while groups[i] != 0 {
                if keys[i] == (traits, tag) { return groups[i] - 1 }
                i = (i + 1) & mask
            }
            return nil
        }

        /// Adds a key not in the table.
        mutating func insert(_ traits: UInt64, _ tag: UInt64, _ group: Int32) {
            if (used + 1) * 2 > groups.count {
                let old = (keys, groups)
                keys = Array(repeating: (0, 0), count: groups.count * 2)
                groups = [Int32](repeating: 0, count: groups.count * 2)
                used = 0
                for (key, g) in zip(old.0, old.1) where g != 0 { insert(key.traits, key.tag, g - 1) }
            }
            let mask = groups.count - 1
            var i = Self.slot(traits, tag, mask: mask)
            while groups[i] != 0 { i = (i + 1) & mask }
            keys[i] = (traits, tag)
            groups[i] = group + 1
            used += 1
        }
    }

    struct Segments {
        var names: [String] = []
        var rows: [Int32] = []
        var group: [Int32] = []
        var withdrawn: [Bool] = []
    }

    /// Every profile ref, numbered with its person's row (no ref is made into text unless it
    /// has another shape than ours).
    var numberedRefs: NumberedRefs { numberedRefs(of: 0..<Int32(rows.count), numbering: { _, row in row }) }

    /// The profile refs of the people in `numbers`, each numbered `numbering(position, row)`.
    func numberedRefs(
        of numbers: some Collection<Int32>, numbering: (_ position: Int32, _ row: Int32) -> Int32
    ) -> NumberedRefs {
        var refs = NumberedRefs(capacity: numbers.count)
        for (position, number) in numbers.enumerated() {
            let r = rows[number]
            if r.flags.contains(.packedRef) {
                refs.insert(packed: r.ref, number: numbering(Int32(position), number))
            } else if r.flags.contains(.otherRef), let other = otherRefs[number] {
                refs.insert(other, number: numbering(Int32(position), number))
            }
        }
        return refs
    }

    /// A participant's profile ref, read from their row (no view is made); nil once erased.
    func profileRef(ofRow number: Int32) -> String? {
        let r = rows[number]
        if r.flags.contains(.packedRef) { return PackedRef.unpack(r.ref) }
        if r.flags.contains(.otherRef) { return otherRefs[number] }
        return nil
    }

    /// Whether a participant still has a profile ref, read from their row's flags (no ref
    /// is made into text).
    func hasProfileRef(ofRow number: Int32) -> Bool {
        let r = rows[number]
        return r.flags.contains(.packedRef) || (r.flags.contains(.otherRef) && otherRefs[number] != nil)
    }

    /// How many people were erased, read from the rows' flags (no view is made).
    var erasedCount: Int {
        var n = 0
        for number in 0..<Int32(rows.count) where rows[number].flags.contains(.erased) { n += 1 }
        return n
    }

    /// What a listing of people shows of a person and judges where they stand by, read from
    /// their row: no view is made (its traits and ref are not read, no tandem is looked up by
    /// id).
    struct Listed {
        var id: ParticipantID
        var programme: ProgrammeID
        var role: Role
        var signedUpOn: BusinessDate
        var withdrawnOn: BusinessDate?
        /// Their active tandem's row (−1: none).
        var activeTandem: Int32
        /// When and how their last tandem ended.
        var lastEnd: (on: BusinessDate, status: TandemStatus)?
    }

    /// The person in row `number`, as a listing shows them.
    func listed(_ number: Int32) -> Listed {
        let r = rows[number]
        var lastEnd: (on: BusinessDate, status: TandemStatus)?
        if let on = BusinessDate?(stored: r.lastEndOn), let status = TandemStatus?(stored: r.lastEndStatus) {
            lastEnd = (on, status)
        }
        return Listed(
            id: r.id, programme: programmes.values[Int(r.programme)], role: r.isMentor ? .mentor : .mentee,
            signedUpOn: BusinessDate(dayNumber: Int(r.signedUpOn)), withdrawnOn: BusinessDate?(stored: r.withdrawnOn),
            activeTandem: r.activeTandem, lastEnd: lastEnd)
    }

    /// A participant as the reports see them; `tandems` names their active tandem.
    func view(_ number: Int32, tandems: TandemRows) -> PersonView {
        let r = rows[number]
        var traits: Traits?
        if r.flags.contains(.packedTraits) {
            traits = codec.unpack(r.traits)
        } else if r.flags.contains(.otherTraits) {
            traits = otherTraits[number]
        }
        var ref: VaultRef?
        if r.flags.contains(.packedRef) {
            ref = .packed(r.ref)
        } else if r.flags.contains(.otherRef) {
            ref = otherRefs[number].map(VaultRef.init)
        }
        var person = PersonView(
            id: r.id, programme: programmes.values[Int(r.programme)], role: r.isMentor ? .mentor : .mentee,
            signedUpOn: BusinessDate(dayNumber: Int(r.signedUpOn)), traits: traits, profileVaultRef: ref)
        person.erased = r.flags.contains(.erased)
        person.withdrawnOn = BusinessDate?(stored: r.withdrawnOn)
        person.withdrawalReason = ReasonCode?(stored: r.reason)
        person.withdrewBeforeMatch = r.flags.contains(.withdrewBeforeMatch)
        person.firstMatchedOn = BusinessDate?(stored: r.firstMatchedOn)
        person.activeTandem = r.activeTandem < 0 ? nil : tandems.id(ofRow: r.activeTandem)
        if let on = BusinessDate?(stored: r.lastEndOn), let status = TandemStatus?(stored: r.lastEndStatus) {
            person.lastTandemEnd = (on, status)
        }
        return person
    }

    private mutating func makeRow(_ p: PersonView, number: Int32, activeTandem: Int32) -> Row {
        var flags: Flags = []
        if p.erased { flags.insert(.erased) }
        if p.withdrewBeforeMatch { flags.insert(.withdrewBeforeMatch) }
        var traits: UInt64 = 0
        otherTraits[number] = nil
        if let t = p.traits {
            if let word = codec.pack(t) {
                traits = word
                flags.insert(.packedTraits)
            } else {
                otherTraits[number] = t
                flags.insert(.otherTraits)
            }
        }
        var ref: UInt64 = 0
        otherRefs[number] = nil
        switch p.profileVaultRef {
        case .packed(let key):
            ref = key
            flags.insert(.packedRef)
        case .other(let text):
            otherRefs[number] = text
            flags.insert(.otherRef)
        case nil: break
        }
        return Row(
            id: p.id, traits: traits, ref: ref, signedUpOn: Int32(clamping: p.signedUpOn.dayNumber),
            withdrawnOn: p.withdrawnOn.stored, firstMatchedOn: p.firstMatchedOn.stored,
            lastEndOn: p.lastTandemEnd.map(\.on).stored, activeTandem: activeTandem,
            programme: UInt32(programmes.number(p.programme)), flags: flags, reason: p.withdrawalReason.stored,
            lastEndStatus: p.lastTandemEnd.map(\.status).stored, isMentor: p.role == .mentor)
    }

}

/// Every participant, as `PersonView`s built from the rows on the fly.
public struct PeopleTable: Sendable {
    let rows: PeopleRows
    let tandems: TandemRows

    /// How many people there are.
    public var count: Int { rows.count }
    /// How many of them were erased.
    public var erasedCount: Int { rows.erasedCount }
    public var isEmpty: Bool { rows.count == 0 }

    /// A participant, if they signed up.
    public subscript(id: ParticipantID) -> PersonView? {
        rows.row(of: id).map { rows.view($0, tandems: tandems) }
    }

    /// Every participant, in the order they signed up.
    public var values: RowViews<PersonView> {
        let (rows, tandems) = (rows, tandems)
        return RowViews(count: rows.count) { rows.view($0, tandems: tandems) }
    }

    /// A participant's profile ref (nil if they never signed up, or were erased), read from
    /// their row: a report that names a million people looked each one up as a whole view.
    public func profileRef(of id: ParticipantID) -> String? {
        rows.row(of: id).flatMap(rows.profileRef(ofRow:))
    }

    /// Every profile ref there is, read from the rows.
    public var profileRefs: Set<String> {
        Set((0..<Int32(rows.count)).compactMap(rows.profileRef(ofRow:)))
    }

    /// Every participant's id, in the order of `values`, read from the rows: no view is made
    /// (an analyst's population of everyone is a million ids, not a million views).
    public var ids: [ParticipantID] { (0..<Int32(rows.count)).map { rows.id(ofRow: $0) } }
}

extension PeopleTable: Equatable {
    /// The same people with the same views, in any order.
    public static func == (a: PeopleTable, b: PeopleTable) -> Bool {
        a.count == b.count && a.values.allSatisfy { b[$0.id] == $0 }
    }
}
