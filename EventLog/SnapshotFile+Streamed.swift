#if canImport(Glibc)
    import Glibc
#endif

extension SnapshotFile {
    /// Where the body begins in a snapshot written section by section: the header is written
    /// last, padded to this length, so that the sections can go to the file first. A header
    /// with a few sections takes a few hundred bytes.
    static let streamedBodyStart = 4096

    /// Writes a snapshot atomically (temporary file, fsync, rename) whose sections go to the
    /// file as `make` produces them: a large section is never whole in memory, so writing a
    /// read model costs a few megabytes beyond the model, not the model's size again.
    ///
    /// The file reads as one written by `write(kind:schema:head:logEnd:vaultSize:sections:chunked:)`;
    /// only its header is padded with zeros (which every reader ignores).
    /// - Throws: `SystemError` from writing; what `make` throws. Either way `path` is
    ///   untouched.
    public func write(
        kind: String, schema: Int, head: LogHead, logEnd: Int, vaultSize: Int,
        making make: (SnapshotSections) throws -> Void
    ) throws {
        try write(kind: kind, schema: schema, making: make) { (head, logEnd, vaultSize) }
    }

    /// Writes a snapshot as `write(kind:schema:head:logEnd:vaultSize:making:)` does, asking
    /// `header` for what the header says only once the sections are written: a writer can
    /// make them before it knows the head they stand for.
    /// - Throws: `SystemError` from writing; what `make` or `header` throws. Either way
    ///   `path` is untouched.
    public func write(
        kind: String, schema: Int, making make: (SnapshotSections) throws -> Void,
        header: () throws -> (head: LogHead, logEnd: Int, vaultSize: Int)
    ) throws {
        try FileSystem.makeDirectory(FileSystem.parentDirectory(of: path))
        try FileSystem.replaceAtomically(path) { (fd: borrowing FileDescriptor) in
            let sections = SnapshotSections(fd: fd.rawValue, path: fd.path, bodyStart: Self.streamedBodyStart)
            try make(sections)
            try sections.writeCompanions()
            let (head, logEnd, vaultSize) = try header()
            let front = Self.front(
                kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize,
                entries: sections.entries, padded: Self.streamedBodyStart)
            // Only a writer with hundreds of sections or very long names gets here.
            guard front.count == Self.streamedBodyStart else {
                throw SystemError("write the header of", path: path, code: EOVERFLOW)
            }
            try front.withUnsafeBytes { raw in
                try Result { () throws(SystemError) in try fd.writeAll(raw, at: 0) }.get()
            }
        }
    }
}

/// The sections of a snapshot being written by `SnapshotFile.write(…making:)`, each written
/// to the file where it belongs as soon as it is given (or, for a streamed section, chunk by
/// chunk as it is made).
public final class SnapshotSections {
    private let fd: Int32
    private let path: String
    private let bodyStart: Int
    /// The body's length so far.
    private var end = 0
    /// The sections written, in file order.
    private(set) var entries: [SnapshotFile.Entry] = []
    /// The chunk digests of each chunked section, written after the sections.
    private var companions: [(name: String, digests: [UInt8])] = []
    /// Whether a streamed section is being written (nothing else may be until it finishes).
    private var streaming = false

    init(fd: Int32, path: String, bodyStart: Int) {
        self.fd = fd
        self.path = path
        self.bodyStart = bodyStart
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(SystemError) {
        try FileDescriptor(borrowing: fd, path: path).writeAll(bytes, at: bodyStart + offset)
    }

    /// Writes a whole section; a `chunked` one gets a digest per chunk (`SnapshotChunks`).
    /// - Throws: `SystemError`.
    public func add(_ name: String, _ bytes: [UInt8], chunked: Bool = false) throws(SystemError) {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(SystemError) in try add(name, raw, chunked: chunked) }
        }.get()
    }

    /// Writes a whole section from `raw`; see `add(_:_:chunked:)`.
    /// - Throws: `SystemError`.
    public func add(_ name: String, _ raw: UnsafeRawBufferPointer, chunked: Bool = false) throws(SystemError) {
        precondition(!streaming, "a section added while a streamed one is being written")
        let digest: SHA256Digest
        if chunked {
            let digests = SnapshotChunks.digests(of: raw)
            companions.append((SnapshotChunks.companion(of: name), digests))
            digest = SHA256.hash(digests)
        } else {
            digest = SHA256.hash(raw)
        }
        try write(raw, at: end)
        entries.append(SnapshotFile.Entry(name: name, start: end, count: raw.count, digest: digest))
        end += raw.count
    }

    /// Begins a section that is written as it is made: the maker writes into a
    /// `SnapshotWriter` and hands it to `spill` now and then, and to `finish` at the end. A
    /// `chunked` one gets a digest per chunk (`SnapshotChunks`); another, one digest of the
    /// whole, computed as it goes.
    public func stream(_ name: String, chunked: Bool = true) -> StreamedSection {
        precondition(!streaming, "a streamed section begun while another is being written")
        streaming = true
        return StreamedSection(name: name, start: end, sections: self, chunked: chunked)
    }

    /// A section written as it is made. A chunked one keeps its first chunk in memory until
    /// the end, so that a count or an offset known only then can be written into it
    /// (`finish(_:patching:)`); every other chunk is hashed (on every core) and written as
    /// soon as it is whole. Another is hashed whole as it is written, and nothing can be
    /// written into it afterwards.
    public final class StreamedSection {
        let name: String
        let start: Int
        let sections: SnapshotSections
        /// The whole section's digest so far; nil for a chunked section.
        private var whole: SHA256?
        /// The first chunk (shorter if the section is).
        private var first: [UInt8]?
        /// The digests of the chunks after the first, and how many bytes they hold.
        private var digests: [UInt8] = []
        private var written = 0
        private var finished = false

        /// How much a writer holds before `spill` writes it out (tests set less).
        public var spillAt = StreamedSection.defaultSpillAt

        /// Four megabytes: sixteen chunks, hashed on every core at once.
        public static let defaultSpillAt = 1 << 22

        init(name: String, start: Int, sections: SnapshotSections, chunked: Bool) {
            self.name = name
            self.start = start
            self.sections = sections
            whole = chunked ? nil : SHA256()
        }

        /// Writes out the whole chunks `writer` holds, if it holds at least `spillAt` bytes;
        /// the writer keeps the rest, and its `position` goes on counting from the section's
        /// start.
        /// - Throws: `SystemError`.
        @inline(__always) public func spill(_ writer: inout SnapshotWriter) throws(SystemError) {
            guard writer.bytes.count >= spillAt else { return }
            try take(&writer, all: false)
        }

        private func take(_ writer: inout SnapshotWriter, all: Bool) throws(SystemError) {
            precondition(!finished, "a streamed section was written to after it was finished")
            if whole != nil {
                try writer.bytes.withUnsafeBytes { raw in
                    Result { () throws(SystemError) in
                        whole!.update(raw)
                        try sections.write(raw, at: start + written)
                    }
                }.get()
                written += writer.bytes.count
                writer.handOff(writer.bytes.count)
                return
            }
            let size = SnapshotChunks.size
            var from = 0
            if first == nil {
                guard all || writer.bytes.count >= size else { return }
                from = min(size, writer.bytes.count)
                first = Array(writer.bytes[..<from])
            }
            let available = writer.bytes.count - from
            let count = all ? available : available / size * size
            if count > 0 {
                try writer.bytes.withUnsafeBytes { raw in
                    Result { () throws(SystemError) in
                        let piece = UnsafeRawBufferPointer(rebasing: raw[from..<(from + count)])
                        digests += SnapshotChunks.digests(of: piece)
                        try sections.write(piece, at: start + size + written)
                    }
                }.get()
                written += count
            }
            writer.handOff(from + count)
        }

        /// Writes out the rest of the section, with `patches` (little-endian 32-bit values at
        /// offsets inside the first chunk) written into it first.
        /// - Throws: `SystemError`.
        public func finish(
            _ writer: inout SnapshotWriter, patching patches: [(value: UInt32, at: Int)] = []
        )
            throws(SystemError)
        {
            try take(&writer, all: true)
            finished = true
            if var whole {
                precondition(patches.isEmpty, "a patch of a section hashed as it was written")
                sections.entries.append(
                    SnapshotFile.Entry(name: name, start: start, count: written, digest: whole.finalize()))
                sections.end = start + written
                sections.streaming = false
                return
            }
            var first = self.first ?? []
            for patch in patches {
                precondition(patch.at >= 0 && patch.at + 4 <= first.count, "a patch outside the first chunk")
                for i in 0..<4 { first[patch.at + i] = UInt8(truncatingIfNeeded: patch.value >> (8 * UInt32(i))) }
            }
            let all = first.withUnsafeBytes { SnapshotChunks.digests(of: $0) } + digests
            try first.withUnsafeBytes { raw in
                Result { () throws(SystemError) in try sections.write(raw, at: start) }
            }.get()
            let count = first.count + written
            sections.companions.append((SnapshotChunks.companion(of: name), all))
            sections.entries.append(
                SnapshotFile.Entry(name: name, start: start, count: count, digest: SHA256.hash(all)))
            sections.end = start + count
            sections.streaming = false
        }
    }

    /// Writes the chunk digests of the chunked sections, after them.
    func writeCompanions() throws(SystemError) {
        precondition(!streaming, "a streamed section was not finished")
        for (name, digests) in companions {
            try digests.withUnsafeBytes { raw in
                Result { () throws(SystemError) in
                    try write(raw, at: end)
                    entries.append(
                        SnapshotFile.Entry(name: name, start: end, count: raw.count, digest: SHA256.hash(raw)))
                    end += raw.count
                }
            }.get()
        }
        companions = []
    }
}
