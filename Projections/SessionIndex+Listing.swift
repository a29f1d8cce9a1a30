import EventLog
import Mentoring

extension SessionIndex {
    /// Every session an index holds, for `tandem sessions` of a whole programme: listed in
    /// the order of the tandems' ids (the natural order of every list) and, within a tandem,
    /// in log order, decoded one record at a time. Ten million events hold about six million
    /// sessions: as `SessionView`s they took gigabytes, in the index about 12 bytes each.
    ///
    /// Making a listing reads every record once (checksums and all), so a damaged index is
    /// refused before anything is printed.
    public struct Listing: Sendable {
        /// The bytes of the `byTandem` section: a mapping of the index file, or sections
        /// built in memory (an index that could not be written).
        final class Storage: Sendable {
            let map: MappedFile?
            let range: Range<Int>
            let owned: [UInt8]

            init(map: MappedFile, range: Range<Int>) {
                self.map = map
                self.range = range
                self.owned = []
            }

            init(owned: [UInt8]) {
                self.map = nil
                self.range = 0..<owned.count
                self.owned = owned
            }

            func withSection<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
                if let map { return try body(UnsafeRawBufferPointer(rebasing: map.bytes[range])) }
                return try owned.withUnsafeBytes { try body($0) }
            }
        }

        let storage: Storage
        let tables: Tables
        /// The tandems and their records' numbers, in the order the tandems sort.
        let order: [(tandem: TandemID, record: Int32)]
        /// How many sessions each programme has.
        public let counts: [ProgrammeID: Int]

        /// A listing of sections built in memory.
        /// - Throws: `SnapshotError` for a malformed record.
        public init(_ sections: Sections) throws {
            try self.init(
                storage: Storage(owned: sections.byTandem),
                tables: Tables(programmes: sections.programmes, topics: sections.topics))
        }

        /// A listing of an index file (mapped, not read into memory).
        /// - Throws: `SnapshotError` for a damaged index; `SystemError` if it cannot be mapped.
        public init(_ file: SnapshotFile, header: SnapshotFile.Header) throws {
            let map = try MappedFile(path: file.path)
            guard let (range, _) = header.sections["byTandem"], range.upperBound <= map.bytes.count else {
                throw SnapshotError.malformed("it has no byTandem section")
            }
            try self.init(
                storage: Storage(map: map, range: range), tables: try Tables(file, header: header, map: map))
        }

        private init(storage: Storage, tables: Tables) throws {
            self.storage = storage
            self.tables = tables
            var order: [(tandem: TandemID, record: Int32)] = []
            var counts: [ProgrammeID: Int] = [:]
            try storage.withSection { section in
                let count = try KeyedSection.count(in: section)
                order.reserveCapacity(count)
                for i in 0..<count {
                    let (key, payload) = try KeyedSection.record(i, in: section)
                    guard let tandem = TandemID(String(decoding: key, as: UTF8.self)) else {
                        throw SnapshotError.malformed("a key that is not a tandem id")
                    }
                    var sessions = 0
                    let programme = try decode(payload, tables, withTopics: false) { _ in sessions += 1 }
                    counts[programme, default: 0] += sessions
                    order.append((tandem, Int32(i)))
                }
            }
            order.sort { $0.tandem < $1.tandem }
            self.order = order
            self.counts = counts
        }

        /// How many sessions there are (in `programme`, or in all).
        public func count(programme: ProgrammeID?) -> Int {
            programme.map { counts[$0] ?? 0 } ?? counts.values.reduce(0, +)
        }

        /// Calls `body` with each of one tandem's sessions, in log order (none if it has none).
        /// - Complexity: O(log n) in the tandems, comparing ids held in memory.
        /// - Throws: as `forEach`.
        public func forEachSession(of tandem: TandemID, _ body: (Entry) throws -> Void) throws {
            var low = 0, high = order.count
            while low < high {
                let mid = (low + high) / 2
                if order[mid].tandem < tandem { low = mid + 1 } else { high = mid }
            }
            guard low < order.count, order[low].tandem == tandem else { return }
            try storage.withSection { section in
                _ = try decode(try KeyedSection.record(Int(order[low].record), in: section).payload, tables, body)
            }
        }

        /// Calls `body` with every session (of `programme`, or of all), tandem by tandem.
        /// - Throws: `SnapshotError` if a record no longer reads (the file was changed under
        ///   the mapping); what `body` throws.
        public func forEach(programme: ProgrammeID?, _ body: (TandemID, Entry) throws -> Void) throws {
            try storage.withSection { section in
                for (tandem, number) in order {
                    let (_, payload) = try KeyedSection.record(Int(number), in: section)
                    _ = try decode(payload, tables, only: programme) { try body(tandem, $0) }
                }
            }
        }
    }
}
