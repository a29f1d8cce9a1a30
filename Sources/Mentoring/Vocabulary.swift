/// Which side of a tandem someone signed up for. In reverse mentoring the mentor is the
/// junior, the "digital native", and the mentee the senior.
public enum Role: String, Sendable, Codable, CaseIterable {
    case mentor
    case mentee
}

/// How a session was held.
public enum SessionMode: String, Sendable, Codable, CaseIterable {
    case inPerson = "in-person"
    case online
}

/// Why someone withdrew or was swapped out. Codes only: free text goes to the vault.
public enum ReasonCode: String, Sendable, Codable, CaseIterable {
    case time
    case mismatch
    case roleChange = "role-change"
    case leftOrganisation = "left-organisation"
    case goalsMet = "goals-met"
    case health
    case other

    /// The codes, as the command line lists them.
    public static let all = allCases.map(\.rawValue)
}

/// A generation by birth year. The seeds call those born before 1981 "digital immigrants".
public enum Generation: String, Sendable, Codable, CaseIterable, Comparable {
    case boomer
    case genX = "gen-x"
    case millennial
    case genZ = "gen-z"

    /// The generation of someone born in `year`: boomer ≤ 1964, gen-x 1965–1980,
    /// millennial 1981–1996, gen-z ≥ 1997.
    public init(bornIn year: Int) {
        switch year {
        case ...1964: self = .boomer
        case 1965...1980: self = .genX
        case 1981...1996: self = .millennial
        default: self = .genZ
        }
    }

    private var order: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Generation, b: Generation) -> Bool { a.order < b.order }
}

/// What a tandem is now.
public enum TandemStatus: String, Sendable, Codable, CaseIterable {
    /// Meeting.
    case active
    /// Ran to its end.
    case completed
    /// Ended early: a swap or a withdrawal.
    case dissolved
}
