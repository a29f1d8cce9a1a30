import EventLog
import Mentoring

/// Every profile's traits by vault ref (`cache/traits.snapshot`): what a time-travel query
/// gives the people who signed up after its checkpoint, found by binary search instead of a
/// pass over the whole vault.
///
/// Layout: a snapshot file of kind `traits` whose `vaultSize` is the vault's size when it
/// was built, with one keyed section, `byRef`: the key is the ref, the payload the unit,
/// level, birth year and gender. Profiles written after it are read from the vault's end.
/// Like the projections snapshot it holds traits and refs, no names or texts, and `forget`
/// drops it with the rest of `cache/`; a vault smaller than it was built from (rewritten by
/// an erasure) makes it be built again.
struct TraitsIndex {
    static let kind = "traits"
    static let schema = 2

    private let map: MappedFile
    private let section: UnsafeRawBufferPointer
    private let vault: Vault
    private let builtAt: Int
    /// Profiles written after the index, read on the first miss.
    private var newer: TraitsDirectory?
    /// Where the last lookup ended: refs asked for in ascending order are found walking the
    /// index forward.
    private var cursor = KeyedSection.Cursor()

    static func file(_ store: Store) -> SnapshotFile {
        SnapshotFile(path: store.cacheDirectory + "/traits.snapshot")
    }

    /// The store's index, built (and written) when it is missing or does not fit the vault.
    /// - Throws: `SystemError` if the vault or the written index cannot be read.
    static func load(_ store: Store, vault: Vault) throws -> TraitsIndex {
        let file = file(store)
        let size = vault.size
        if let header = try? file.header(kind: kind, schema: schema), header.vaultSize <= size,
            let index = try? TraitsIndex(file, header: header, vault: vault)
        {
            return index
        }
        var records: [(key: [UInt8], payload: [UInt8])] = []
        try TraitsDirectory.forEachProfile(in: vault) { ref, traits in
            var w = SnapshotWriter(capacity: 32)
            w.write(traits.unit)
            w.write(traits.level)
            w.write(traits.born)
            w.write(traits.gender)
            records.append((Array(ref.utf8), w.bytes))
        }
        try file.write(
            kind: kind, schema: schema, head: .empty, logEnd: 0, vaultSize: size,
            sections: [("byRef", KeyedSection.build(records))])
        return try TraitsIndex(file, header: try file.header(kind: kind, schema: schema), vault: vault)
    }

    private init(_ file: SnapshotFile, header: SnapshotFile.Header, vault: Vault) throws {
        map = try MappedFile(path: file.path)
        section = try file.section("byRef", of: header, in: map)
        self.vault = vault
        builtAt = header.vaultSize
    }

    /// The traits of the profile `ref`, if the vault has it. Many refs are found fastest in
    /// ascending order (see `KeyedSection.Cursor`).
    /// - Throws: `SnapshotError` for a damaged record; `SystemError` reading the vault.
    mutating func traits(_ ref: String) throws -> Traits? {
        if let index = try cursor.position(of: ref.utf8, in: section) {
            let payload = try KeyedSection.record(index, in: section).payload
            return try Result { () throws(SnapshotError) -> Traits in
                var r = SnapshotReader(payload)
                return Traits(
                    unit: try r.readString(), level: try r.readInt(), born: try r.readInt(),
                    gender: try r.readOptionalString())
            }.get()
        }
        if newer == nil {
            var directory = TraitsDirectory()
            if vault.size > builtAt { try directory.load(vault, from: builtAt) }
            newer = directory
        }
        return newer![ref]
    }
}
