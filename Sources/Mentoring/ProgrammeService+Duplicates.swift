import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// Duplicate protection for signups and imports.
extension ProgrammeService {
    /// Someone who seems to be signed up already: the same email (without regard to case), or
    /// the same name (without regard to case and accents) and birth year.
    public struct Duplicate: Sendable, Equatable {
        /// The candidate's position in the list asked about.
        public var index: Int
        /// Who is already there: a participant id, or nil for an earlier candidate.
        public var existing: ParticipantID?
        /// The earlier candidate's position, for a duplicate within the list.
        public var earlier: Int?
        /// "the same email" or "the same name and birth year".
        public var why: String
    }

    /// Which of these signups repeat someone already in their programme, or an earlier one of
    /// the list. One pass over the vault's profiles; the log is searched only for the refs of
    /// the profiles that match (to find their participant and programme).
    /// - Complexity: O(vault) plus O(log) per matching profile.
    public func duplicates(of candidates: [(programme: ProgrammeID, profile: Profile)]) throws -> [Duplicate] {
        func keys(_ p: Profile) -> [(String, String)] {
            var out = [("name|" + Field.fold(p.name.trimmed) + "|\(p.born)", "the same name and birth year")]
            if let email = p.email?.trimmed.lowercased(), !email.isEmpty {
                out.insert(("email|" + email, "the same email"), at: 0)
            }
            return out
        }
        var wanted: [String: [Int]] = [:]
        var found: [Duplicate] = []
        var seen: [String: Int] = [:]
        for (index, candidate) in candidates.enumerated() {
            for (key, why) in keys(candidate.profile) {
                if let earlier = seen[key + "|" + candidate.programme.rawValue] {
                    found.append(Duplicate(index: index, existing: nil, earlier: earlier, why: why))
                    break
                }
            }
            for (key, _) in keys(candidate.profile) {
                seen[key + "|" + candidate.programme.rawValue] = seen[key + "|" + candidate.programme.rawValue] ?? index
                wanted[key, default: []].append(index)
            }
        }
        // Profiles in the vault that share a key with a candidate, by ref.
        var matches: [String: [(index: Int, why: String)]] = [:]
        let marker = Array("\"kind\":\"profile\"".utf8)
        if FileSystem.kind(of: vault.path).exists {
            try LineStream.forEach(vault.path) { bytes, offset in
                guard ByteSearch.contains(marker, in: bytes), let parsed = try? Vault.parse(bytes, offset: offset),
                    let profile = parsed.payload?.profile
                else { return }
                for (key, why) in keys(profile) {
                    for index in wanted[key] ?? [] { matches[parsed.ref, default: []].append((index, why)) }
                }
            }
        }
        guard !matches.isEmpty else { return found }
        // Whose profiles they are, and in which programme.
        try store.events.forEachLine { line in
            guard ByteSearch.contains(Array("\"type\":\"ParticipantSignedUp\"".utf8), in: line.bytes),
                case .participantSignedUp(let e) = try EventDecoder.decode(line).event,
                let hits = matches[e.personal.ref]
            else { return }
            for (index, why) in hits
            where candidates[index].programme == e.programme && !found.contains(where: { $0.index == index }) {
                found.append(Duplicate(index: index, existing: e.participant, earlier: nil, why: why))
            }
        }
        return found.sorted { $0.index < $1.index }
    }
}
