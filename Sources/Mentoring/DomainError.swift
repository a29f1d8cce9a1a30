/// Why a command was refused. Each case names the offending values, and its message says
/// how to put things right. Nothing is appended when one is thrown.
public indirect enum DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    // Ids and references
    case unknownProgramme(ProgrammeID)
    case unknownParticipant(ParticipantID)
    case unknownTandem(TandemID)
    case unknownGoal(TandemID, GoalID)
    case unknownMatchRun(MatchRunID)
    /// The programme was closed: nothing more happens in it.
    case programmeClosed(ProgrammeID, on: BusinessDate)
    /// A participant recorded for a tandem that is not their active one (or something else).
    case notYourTandem(ParticipantID, TandemID?)
    /// A match names a run that did not propose this pair.
    case notProposedByRun(MatchRunID, mentor: ParticipantID, mentee: ParticipantID)
    case duplicateProgramme(ProgrammeID)
    case duplicateParticipant(ParticipantID)
    case duplicateTandem(TandemID)
    case duplicateGoal(TandemID, GoalID)
    case duplicateMatchRun(MatchRunID)
    case wrongProgramme(ParticipantID, belongsTo: ProgrammeID, asked: ProgrammeID)
    case runOfOtherProgramme(MatchRunID, belongsTo: ProgrammeID, asked: ProgrammeID)
    // People and tandems
    case wrongRole(ParticipantID, signedUpAs: Role, neededAs: Role)
    case alreadyInTandem(ParticipantID, TandemID)
    case sameUnit(ParticipantID, ParticipantID, unit: String)
    case formerPartners(ParticipantID, ParticipantID)
    case sameParticipant(ParticipantID)
    case participantWithdrawn(ParticipantID, on: BusinessDate)
    case participantErased(ParticipantID)
    case alreadyErased(ParticipantID)
    case notAMember(ParticipantID, TandemID)
    case tandemNotActive(TandemID, TandemStatus)
    case goalAlreadyReached(TandemID, GoalID, on: BusinessDate)
    // Dates
    case dateInFuture(BusinessDate, today: BusinessDate)
    case dateOutsideProgramme(BusinessDate, ProgrammeID, starts: BusinessDate, ends: BusinessDate)
    case dateBeforeTandem(BusinessDate, TandemID, since: BusinessDate)
    case dateBeforeSignUp(BusinessDate, ParticipantID, signedUp: BusinessDate)
    case dateBeforeLastSession(BusinessDate, TandemID, lastSession: BusinessDate)
    /// A backdated entry that the business-date timeline contradicts: `fact` (recorded at
    /// `seq`, dated `factDate`) comes after `date`, where the new `entry` would stand.
    case timelineConflict(fact: String, factDate: BusinessDate, seq: Int, entry: String, date: BusinessDate)
    case dateBeforeGoalSet(BusinessDate, TandemID, GoalID, set: BusinessDate)
    case dueBeforeSet(due: BusinessDate, set: BusinessDate)
    case dueAfterProgramme(due: BusinessDate, ProgrammeID, ends: BusinessDate)
    case programmeEnded(ProgrammeID, ends: BusinessDate, date: BusinessDate)
    case programmeDates(starts: BusinessDate, ends: BusinessDate)
    // Values
    /// An option's value breaks a rule: `field` is the option's name (`minutes`, `id`), as a
    /// flag (`--minutes`) and as a key of a `tandem append` line; the command line adds the
    /// dashes.
    case invalidValue(field: String, value: String, expected: String)
    /// Something that is not one option is wrong (a command in the wrong place, a command
    /// without the data it carries).
    case invalidInput(what: String, value: String, expected: String)
    /// An erasure came in a batch: it rewrites the vault, so it runs on its own.
    case erasureInBatch
    /// A given id contains a word of the person's name (ids stay in the log after an erasure).
    case idNamesPerson(id: String, word: String)
    // Corrections
    case seqNotFound(Int, head: Int)
    case alreadyVoided(Int, by: Int)
    case notVoidable(Int, type: String)
    case voidWouldBreak(seq: Int, later: Int, laterType: String, because: DomainError)
    // Idempotency
    case keyReused(key: String, seq: Int)
    /// Two commands of one batch carry the same idempotency key with different content
    /// (`index` is the 0-based position of the earlier one; nothing of the batch is written).
    case keyReusedInBatch(key: String, index: Int)

    /// The rule and its values, without advice: the command line words them (with flag
    /// names and what to run instead) in `ErrorReport`.
    public var description: String {
        guard let child = Mirror(reflecting: self).children.first else { return "domain error" }
        let values = Mirror(reflecting: child.value).children.map { "\($0.value)" }
        return "\(child.label ?? "rule"): " + (values.isEmpty ? "\(child.value)" : values.joined(separator: ", "))
    }

}
