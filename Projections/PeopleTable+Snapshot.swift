import EventLog
import Mentoring

/// The people's rows in the projections snapshot's `model` section, written as they are held
/// (numbers, not views): a load files each record as a row without building a
/// `PersonView`, interning its programme and unit again or packing its ref again.
///
/// The dictionaries (the programmes, units and genders the rows number) come first, in the
/// section's prefix, so that a slice reads them too; then one record per person:
/// id · programme number · flags · the traits word or the traits · the ref word or the
/// ref · signed up · withdrawn · first matched · last end · active tandem row · reason ·
/// last end's status · mentor. Days are day numbers, `Int32.min` for none.
extension PeopleRows {
    /// Writes the tables the rows number their programmes, units and genders by.
    func writeDictionaries(into w: inout SnapshotWriter) {
        let (units, genders) = codec.tables
        for table in [programmes.values.map(\.rawValue), units, genders] {
            w.write(UInt64(table.count))
            for value in table { w.write(value) }
        }
    }

    /// Reads the tables `writeDictionaries` wrote, into an empty table.
    /// - Throws: `SnapshotError.malformed` for an invalid programme id or a value listed twice.
    mutating func readDictionaries(_ r: inout SnapshotReader) throws(SnapshotError) {
        assert(rows.count == 0, "dictionaries are read into an empty table")
        var ids: [ProgrammeID] = []
        for _ in 0..<(try r.readCount()) { ids.append(try ProjectionSnapshot.id(&r)) }
        var tables: [[String]] = []
        for _ in 0..<2 {
            var table: [String] = []
            for _ in 0..<(try r.readCount()) { table.append(try r.readString()) }
            tables.append(table)
        }
        guard let programmes = Interned(values: ids), let codec = TraitsCodec(units: tables[0], genders: tables[1])
        else { throw .malformed("a dictionary lists a value twice") }
        self.programmes = programmes
        self.codec = codec
    }

    /// Writes row `number` as one record.
    func writeRecord(_ number: Int32, into w: inout SnapshotWriter) {
        let r = rows[number]
        w.write(r.id.rawValue)
        w.write(UInt64(r.programme))
        w.write(UInt64(r.flags.rawValue))
        if r.flags.contains(.packedTraits) {
            w.writeWord(r.traits)
        } else if r.flags.contains(.otherTraits), let t = otherTraits[number] {
            w.write(t.unit)
            w.write(t.level)
            w.write(t.born)
            w.write(t.gender)
        }
        if r.flags.contains(.packedRef) {
            w.writeWord(r.ref)
        } else if r.flags.contains(.otherRef), let ref = otherRefs[number] {
            w.write(ref)
        }
        for day in [r.signedUpOn, r.withdrawnOn, r.firstMatchedOn, r.lastEndOn, r.activeTandem] { w.write(Int(day)) }
        w.write(UInt64(r.reason))
        w.write(UInt64(r.lastEndStatus))
        w.write(r.isMentor)
    }

    /// A person's record as read: the row and what it keeps beside the row.
    struct Record: Sendable {
        var row: Row
        var otherTraits: Traits?
        var otherRef: String?
    }

    /// The flags a record may carry.
    private static let knownFlags: Flags = [
        .erased, .withdrewBeforeMatch, .packedTraits, .otherTraits, .packedRef, .otherRef,
    ]
    // Constants, not expressions in `readRecord`: there an option set's literal allocated
    // an array for every record read, and `allCases.count` fetched the cases' array, called
    // for its count and released it.
    private static let bothTraits: Flags = [.packedTraits, .otherTraits]
    private static let bothRefs: Flags = [.packedRef, .otherRef]
    private static let reasons = UInt64(ReasonCode.allCases.count)
    private static let statuses = UInt64(TandemStatus.allCases.count)

    /// Reads one record, checking every number against these dictionaries (its active
    /// tandem is checked by the caller, who knows how many tandems there are).
    /// - Throws: `SnapshotError.malformed`.
    func readRecord(_ r: inout SnapshotReader) throws(SnapshotError) -> Record {
        guard let id = ParticipantID(bytes: try r.readStringBytes()) else {
            throw .malformed("an invalid participant id")
        }
        let programme = try r.readUInt64()
        guard programme < UInt64(programmes.values.count) else { throw .malformed("a person of an unknown programme") }
        let flagBits = try r.readUInt64()
        let flags = Flags(rawValue: UInt8(truncatingIfNeeded: flagBits))
        guard flagBits <= UInt64(Self.knownFlags.rawValue), Self.knownFlags.isSuperset(of: flags),
            !flags.isSuperset(of: Self.bothTraits), !flags.isSuperset(of: Self.bothRefs)
        else { throw .malformed("a person's flags are \(flagBits)") }
        var record = Record(
            row: Row(
                id: id, traits: 0, ref: 0, signedUpOn: 0, withdrawnOn: 0, firstMatchedOn: 0, lastEndOn: 0,
                activeTandem: -1, programme: UInt32(programme), flags: flags, reason: 0, lastEndStatus: 0,
                isMentor: false))
        if flags.contains(.packedTraits) {
            record.row.traits = try r.readWord()
            guard codec.admits(record.row.traits) else { throw .malformed("traits of an unknown unit or gender") }
        } else if flags.contains(.otherTraits) {
            record.otherTraits = Traits(
                unit: try r.readString(), level: try r.readInt(), born: try r.readInt(),
                gender: try r.readOptionalString())
        }
        if flags.contains(.packedRef) {
            record.row.ref = try r.readWord()
        } else if flags.contains(.otherRef) {
            record.otherRef = try r.readString()
        }
        record.row.signedUpOn = try r.readInt32()
        record.row.withdrawnOn = try r.readInt32()
        record.row.firstMatchedOn = try r.readInt32()
        record.row.lastEndOn = try r.readInt32()
        record.row.activeTandem = try r.readInt32()
        let reason = try r.readUInt64(), status = try r.readUInt64()
        guard reason <= Self.reasons, status <= Self.statuses,
            record.row.activeTandem >= -1
        else { throw .malformed("a person's reason, status or tandem is out of range") }
        record.row.reason = UInt8(reason)
        record.row.lastEndStatus = UInt8(status)
        record.row.isMentor = try r.readBool()
        return record
    }

    /// Files a record read by `readRecord` (of a person not here yet) as the next row.
    /// - Returns: its row.
    /// With `indexed` false the index is left as it is, for `adopt` to replace once every
    /// row is here.
    @discardableResult
    mutating func append(_ record: Record, indexed: Bool = true) -> Int32 {
        assert(row(of: record.row.id) == nil, "a record of a participant already here")
        let number = rows.append(row: record.row)
        if let traits = record.otherTraits { otherTraits[number] = traits }
        if let ref = record.otherRef { otherRefs[number] = ref }
        if indexed {
            let rows = self.rows
            index.insert(row: number, hash: Self.hash(record.row.id)) { Self.hash(rows[$0].id) }
        }
        return number
    }

    /// Files the rows of `other` (read with this table's dictionaries, unindexed) after
    /// these, as `append(_:indexed: false)` of each of its records would.
    mutating func append(contentsOf other: consuming PeopleRows) {
        let offset = Int32(rows.count)
        rows.append(contentsOf: other.rows)
        for (number, traits) in other.otherTraits { otherTraits[number + offset] = traits }
        for (number, ref) in other.otherRefs { otherRefs[number + offset] = ref }
    }

    /// Indexes every row, in order: what appending each with `indexed: true` builds (rows
    /// filed before it is known whether the snapshot's lookup can be adopted).
    mutating func indexRows() {
        let rows = self.rows
        index = RowIndex.ofRows(rows.count) { Self.hash(rows[$0].id) }
    }

    /// Takes `index` (the snapshot lookup's table of these rows) as the index: what placing
    /// every row again would build.
    mutating func adopt(_ index: RowIndex) {
        self.index = index
        #if DEBUG
            for n in 0..<Int32(rows.count) { assert(row(of: rows[n].id) == n, "an adopted index that misses a row") }
        #endif
    }
}
