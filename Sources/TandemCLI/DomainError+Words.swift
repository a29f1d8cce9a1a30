import Mentoring

/// The words of the decider's refusals: each rule with its values, the flags to use and what
/// to run instead. The decider carries the structure; this is the only place that phrases it.
extension ErrorReport {
    /// A refusal as one sentence for the command line.
    static func words(_ error: DomainError) -> String {
        switch error {
        case .unknownProgramme(let p):
            return "unknown programme '\(p)'; launch it with `tandem programme launch --id \(p) …`, or check the id"
        case .unknownParticipant(let p):
            return "unknown participant '\(p)'; check the id (`tandem audit` lists every participant's events)"
        case .unknownTandem(let t):
            return "unknown tandem '\(t)'; check the id with `tandem tandems --status all`"
        case .unknownGoal(let t, let g):
            return
                "tandem '\(t)' has no goal '\(g)'; set it first with `tandem goal set --tandem \(t) --goal \(g) --text …`"
        case .notYourTandem(let p, let t):
            if let t {
                return
                    "tandem '\(t)' is not an active tandem of \(p); a participant records sessions and goals of their own active tandem only"
            }
            return
                "participants record their own tandem's sessions and goals only; ask the coordinator for anything else"
        case .programmeClosed(let p, let on):
            return "programme '\(p)' was closed on \(on); it takes no signups, matches, sessions or goals any more"
        case .unknownMatchRun(let r):
            return "unknown match run '\(r)'; record one with `tandem suggest --record`"
        case .notProposedByRun(let r, let mentor, let mentee):
            return
                "match run '\(r)' did not propose \(mentor) × \(mentee); leave out --run for a match by hand, or give --override REASON to record it under the run anyway"
        case .duplicateProgramme(let p):
            return "a programme '\(p)' already exists; choose another --id"
        case .duplicateParticipant(let p):
            return "a participant '\(p)' already exists; choose another --id, or leave it out to get a generated one"
        case .duplicateTandem(let t):
            return "a tandem '\(t)' already exists; choose another id, or leave it out to get a generated one"
        case .duplicateGoal(let t, let g):
            return "tandem '\(t)' already has a goal '\(g)'; choose another --goal id"
        case .duplicateMatchRun(let r):
            return "a match run '\(r)' already exists"
        case .wrongProgramme(let p, let belongs, let asked):
            return "participant '\(p)' belongs to programme '\(belongs)', not '\(asked)'"
        case .runOfOtherProgramme(let r, let belongs, let asked):
            return "match run '\(r)' belongs to programme '\(belongs)', not '\(asked)'"
        case .wrongRole(let p, let signed, let needed):
            return
                "participant '\(p)' signed up as a \(signed), so cannot be the \(needed); in reverse mentoring the mentor is the junior who signed up as mentor"
        case .alreadyInTandem(let p, let t):
            return "participant '\(p)' is already in active tandem '\(t)'; complete it, or use `tandem swap`, first"
        case .sameUnit(let a, let b, let unit):
            return
                "'\(a)' and '\(b)' are both in unit '\(unit)', and cross-mentoring pairs people from different units; give --override REASON to match them anyway"
        case .formerPartners(let a, let b):
            return
                "'\(a)' and '\(b)' were partners before and are never matched again; choose another partner (`tandem suggest` proposes one)"
        case .sameParticipant(let p):
            return "participant '\(p)' cannot be on both sides"
        case .participantWithdrawn(let p, let on):
            return "participant '\(p)' withdrew on \(on); a withdrawal can be undone only with `tandem void`"
        case .participantErased(let p):
            return
                "participant '\(p)' had their personal data erased, so the programme's rules (units, roles) can no longer be checked for them; sign them up again"
        case .alreadyErased(let p):
            return "participant '\(p)' has already been erased; nothing is left to forget"
        case .notAMember(let p, let t):
            return "participant '\(p)' is not a member of tandem '\(t)'"
        case .tandemNotActive(let t, let status):
            return
                "tandem '\(t)' is \(status.rawValue), not active; sessions, goals, swaps and completions happen only on active tandems"
        case .goalAlreadyReached(let t, let g, let on):
            return "goal '\(g)' of tandem '\(t)' was already reached on \(on)"
        case .dateInFuture(let date, let today):
            return "\(date) is in the future (today is \(today)); record things after they happen"
        case .dateOutsideProgramme(let date, let p, let starts, let ends):
            return "\(date) is outside programme '\(p)', which runs from \(starts) to \(ends)"
        case .dateBeforeTandem(let date, let t, let since):
            return "\(date) is before tandem '\(t)' began on \(since)"
        case .dateBeforeSignUp(let date, let p, let signed):
            return "\(date) is before participant '\(p)' signed up on \(signed)"
        case .dateBeforeLastSession(let date, let t, let last):
            return "\(date) is before tandem '\(t)'s last recorded session on \(last)"
        case .timelineConflict(let fact, let factDate, let seq, let entry, let date):
            return
                "\(fact) (seq \(seq)); a \(entry) dated \(date) would come before it. Record the \(entry) on or after \(factDate), or void seq \(seq) first"
        case .dateBeforeGoalSet(let date, let t, let g, let set):
            return "\(date) is before goal '\(g)' of tandem '\(t)' was set on \(set)"
        case .dueBeforeSet(let due, let set):
            return "the due date \(due) is before the goal is set on \(set)"
        case .dueAfterProgramme(let due, let p, let ends):
            return "the due date \(due) is after programme '\(p)' ends on \(ends)"
        case .programmeEnded(let p, let ends, let date):
            return "programme '\(p)' ended on \(ends), before \(date)"
        case .programmeDates(let starts, let ends):
            return "a programme must end after it starts (starts \(starts), ends \(ends))"
        case .invalidValue(let field, let value, let expected):
            return "--\(field) '\(value)' is invalid: \(expected)"
        case .idNamesPerson(let id, let word):
            return
                "--id '\(id)' is invalid: an id that does not contain the person's name ('\(word)'), since ids stay in the log after an erasure; leave --id out for a generated one"
        case .erasureInBatch:
            return
                "command 'forget' is invalid: an erasure rewrites the vault, so it runs on its own: use `tandem forget`"
        case .invalidInput(let what, let value, let expected):
            return "\(what) '\(value)' is invalid: \(expected)"
        case .seqNotFound(let seq, let head):
            return "there is no seq \(seq) to void; the log's head is seq \(head)"
        case .alreadyVoided(let seq, let by):
            return "seq \(seq) was already voided by seq \(by)"
        case .notVoidable(let seq, let type):
            return
                "seq \(seq) is \(type.first.map { "AEIOU".contains($0) } == true ? "an" : "a") \(type), which cannot be voided"
        case .voidWouldBreak(let seq, let later, let laterType, let because):
            return
                "voiding seq \(seq) would leave seq \(later) (\(laterType)) invalid (\(summary(of: because))); void seq \(later) first"
        case .keyReused(let key, let seq):
            return "the idempotency key '\(key)' was already used for a different command (seq \(seq)); use a new key"
        case .keyReusedInBatch(let key, let index):
            return
                "the idempotency key '\(key)' is used by command \(index + 1) of this batch for a different command; use a new key"
        }
    }

    /// The rule a refusal names, up to its advice (the part before "; ").
    static func summary(of error: DomainError) -> String {
        let text = Array(words(error))
        for i in 0..<max(0, text.count - 1) where text[i] == ";" && text[i + 1] == " " { return String(text[..<i]) }
        return String(text)
    }
}
