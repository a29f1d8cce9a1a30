import EventLog
import Mentoring

/// What every query gets: the folded read model, the basis, the viewer, and the vault
/// (for the few views that may show personal text).
public struct QueryInput: Sendable {
    public var model: ProgrammeReadModel
    public var basis: Basis
    public var vault: Vault?

    public init(model: ProgrammeReadModel, basis: Basis, vault: Vault? = nil) {
        self.model = model
        self.basis = basis
        self.vault = vault
    }

    public var viewer: Viewer { basis.role }
    public var asOf: BusinessDate { basis.asOf }

    /// The programme a query is about: the one asked for, or the only one there is.
    /// - Throws: `QueryError` if it does not exist, or if there are several and none was asked for.
    public func programme(_ asked: ProgrammeID?) throws(QueryError) -> Programme {
        if let asked {
            guard let programme = model.programmes[asked] else { throw .unknownProgramme(asked, known: model.programmeOrder) }
            return programme
        }
        guard !model.programmeOrder.isEmpty else { throw .noProgramme }
        guard model.programmeOrder.count == 1 else { throw .whichProgramme(model.programmeOrder) }
        return model.programmes[model.programmeOrder[0]]!
    }

    /// The person's display name for this viewer: names for coordinators, and for a
    /// participant only their partner's.
    public func name(of person: ParticipantID, partnerOf viewerID: ParticipantID? = nil) -> JSONValue {
        guard let profile = model.people[person]?.profile else { return .null }
        switch viewer {
        case .coordinator: return .string(profile.name)
        case .participant(let me) where person != me: return .string(profile.name)
        default: return .null
        }
    }

    /// Vault texts by ref, read only for the refs asked for.
    public func texts(_ refs: Set<String>) throws -> [String: String] {
        guard let vault, !refs.isEmpty else { return [:] }
        var out: [String: String] = [:]
        try vault.forEachLine { line in
            if refs.contains(line.ref), let text = line.payload?.text { out[line.ref] = text }
        }
        return out
    }
}

/// A query that cannot be answered as asked.
public enum QueryError: Error, Equatable, Sendable, CustomStringConvertible {
    case noProgramme
    case whichProgramme([ProgrammeID])
    case unknownProgramme(ProgrammeID, known: [ProgrammeID])
    case unknownTandem(TandemID)
    case unknownParticipant(ParticipantID)
    case notYours(TandemID)
    case invalid(String)

    public var description: String {
        switch self {
        case .noProgramme:
            return "the store holds no programme yet; launch one with `tandem programme launch`"
        case .whichProgramme(let ids):
            return "the store holds \(ids.count) programmes (\(ids.map(\.rawValue).joined(separator: ", "))); choose one with --programme"
        case .unknownProgramme(let id, let known):
            return "unknown programme '\(id)'" + (known.isEmpty ? "" : "; the programmes are \(known.map(\.rawValue).joined(separator: ", "))")
        case .unknownTandem(let id):
            return "unknown tandem '\(id)'; list them with `tandem tandems --status all`"
        case .unknownParticipant(let id):
            return "unknown participant '\(id)'"
        case .notYours(let id):
            return "tandem '\(id)' is not one of yours; a participant sees only their own tandems"
        case .invalid(let message):
            return message
        }
    }
}
