import EventLog
import Mentoring

/// Turns a command's fields (flags or a JSON line) into a domain command. Personal data is
/// sealed here, so that it never travels further unsealed.
enum CommandBuilders {
    typealias Builder = @Sendable (any FieldSource, any RandomSource) throws(FieldError) -> ProgrammeCommand

    static let launch: Builder = { f, _ throws(FieldError) in
        .launch(
            LaunchProgramme(
                id: try f.id("id"), name: try f.required("name", "text"), starts: try f.date("starts"),
                ends: try f.date("ends"),
                cadenceDays: try f.optionalInteger("cadence-days", "days") ?? 30,
                minGroupSize: try f.optionalInteger("min-group-size", "n") ?? 5))
    }

    static let signUp: Builder = { f, random throws(FieldError) in
        let born = try f.required("born", "yyyy")
        guard born.count == 4, let year = Int(born) else {
            throw f.invalid("born", "yyyy", born, "expected a four-digit year, e.g. 1962")
        }
        let profile = Profile(
            name: try f.required("name", "text").trimmed, email: f.value("email")?.trimmed,
            unit: try f.required("unit", "unit").trimmed,
            level: try f.integer("level", "n"), born: year, gender: f.value("gender")?.trimmed,
            offers: f.list("offers") ?? [], wants: f.list("wants") ?? [], interests: f.list("interests") ?? [])
        return .signUp(
            SignUp(
                programme: try f.id("programme"), role: try f.choice("role", "role", Role.self),
                profile: SealedRecord(.profile(profile), random: random), id: try f.optionalID("id"),
                on: try f.optionalDate("on")))
    }

    static let match: Builder = { f, random throws(FieldError) in
        .match(
            Match(
                programme: try f.id("programme"), mentor: try f.id("mentor"), mentee: try f.id("mentee"),
                id: try f.optionalID("id"),
                override: f.value("override").map { SealedRecord(.reason($0.trimmed), random: random) },
                run: try f.optionalID("run"),
                on: try f.optionalDate("on")))
    }

    static let session: Builder = { f, random throws(FieldError) in
        .recordSession(
            RecordSession(
                tandem: try f.id("tandem"), on: try f.optionalDate("on"), minutes: try f.integer("minutes", "n"),
                mode: try f.optionalChoice("mode", "mode", SessionMode.self), topics: f.list("topics") ?? [],
                notes: f.value("notes").map { SealedRecord(.notes($0), random: random) }))
    }

    static let update: Builder = { f, _ throws(FieldError) in
        var born: Int?
        if let text = f.value("born") {
            guard text.count == 4, let year = Int(text) else {
                throw f.invalid("born", "yyyy", text, "expected a four-digit year, e.g. 1962")
            }
            born = year
        }
        let changes = ProfileChanges(
            name: f.value("name")?.trimmed, email: f.value("email")?.trimmed, unit: f.value("unit")?.trimmed,
            level: try f.optionalInteger("level", "n"), born: born, gender: f.value("gender")?.trimmed,
            offers: f.list("offers"), wants: f.list("wants"), interests: f.list("interests"))
        guard !changes.fields.isEmpty else {
            throw FieldError(
                "Nothing to update: give at least one of --name, --email, --unit, --level, --born, --gender, --offers, --wants, --interests"
            )
        }
        return .updateProfile(
            UpdateProfile(participant: try f.id("participant"), changes: changes, on: try f.optionalDate("on")))
    }

    static let checkIn: Builder = { f, random throws(FieldError) in
        .checkIn(
            RecordCheckIn(
                tandem: try f.id("tandem"), participant: try f.id("participant"),
                rating: try f.integer("rating", "1-5"),
                notes: f.value("notes").map { SealedRecord(.notes($0), random: random) }, on: try f.optionalDate("on")))
    }

    static let goalSet: Builder = { f, random throws(FieldError) in
        .setGoal(
            SetGoal(
                tandem: try f.id("tandem"), goal: try f.id("goal"),
                text: SealedRecord(.goalText(try f.required("text", "text")), random: random),
                due: try f.optionalDate("due"), category: f.value("category"), on: try f.optionalDate("on")))
    }

    static let goalReached: Builder = { f, _ throws(FieldError) in
        .reachGoal(ReachGoal(tandem: try f.id("tandem"), goal: try f.id("goal"), on: try f.optionalDate("on")))
    }

    static let swap: Builder = { f, random throws(FieldError) in
        .swap(
            SwapPartner(
                tandem: try f.id("tandem"), leaving: try f.id("leaving"), joining: try f.id("joining"),
                on: try f.optionalDate("on"),
                reason: try f.choice("reason", "code", ReasonCode.self), newTandem: try f.optionalID("new-id"),
                override: f.value("override").map { SealedRecord(.reason($0.trimmed), random: random) },
                notes: f.value("notes").map { SealedRecord(.notes($0), random: random) }))
    }

    static let withdraw: Builder = { f, random throws(FieldError) in
        .withdraw(
            Withdraw(
                participant: try f.id("participant"), on: try f.optionalDate("on"),
                reason: try f.choice("reason", "code", ReasonCode.self),
                notes: f.value("notes").map { SealedRecord(.reason($0), random: random) }))
    }

    static let complete: Builder = { f, _ throws(FieldError) in
        .complete(CompleteTandem(tandem: try f.id("tandem"), on: try f.optionalDate("on")))
    }

    static let void: Builder = { f, random throws(FieldError) in
        let seq = try f.integer("seq", "n")
        guard seq >= 1 else { throw f.invalid("seq", "n", String(seq), "seqs start at 1") }
        return .void(
            VoidEvent(seq: seq, reason: SealedRecord(.reason(try f.required("reason", "text").trimmed), random: random))
        )
    }

    /// The builders by the name `tandem append` uses (the command path, or a short form).
    /// The command-line spec of a batch command name, whose options are the fields a line
    /// may carry.
    static func spec(named name: String) -> CommandSpec? {
        var words = name.split(whereSeparator: { $0 == " " || $0 == "-" }).map(String.init)
        if words == ["launch"] { words = ["programme", "launch"] }
        var spec = TandemCLI.root
        for word in words {
            guard let next = spec.subcommands.first(where: { $0.name == word }) else { return nil }
            spec = next
        }
        return spec
    }

    static let byName: [String: Builder] = [
        "programme launch": launch, "launch": launch, "signup": signUp, "match": match, "session": session,
        "goal set": goalSet, "goal-set": goalSet, "goal reached": goalReached, "goal-reached": goalReached,
        "swap": swap, "withdraw": withdraw, "complete": complete, "void": void, "checkin": checkIn, "update": update,
    ]
}
