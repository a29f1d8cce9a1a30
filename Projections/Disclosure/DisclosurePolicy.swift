import EventLog
import Mentoring

/// The people (or tandems, or goals) a count is taken over, with their cell key.
///
/// The key is that of the population, not of the people counted: "withdrawn in unit X" is
/// keyed by everyone in unit X. Were it keyed by the withdrawn alone, two cells with the same
/// withdrawn people would always publish the same figure, so "unit X" and "the women of unit
/// X" would differ exactly when the one man withdrew.
public struct Population: Sendable, Equatable {
    /// How many contributors it has.
    public var size: Int
    /// The sum of their record keys.
    public var key: CellKey

    public init(size: Int = 0, key: CellKey = .empty) {
        self.size = size
        self.key = key
    }

    /// Adds a contributor.
    public mutating func add(_ key: CellKey) {
        size += 1
        self.key += key
    }

    /// Adds the contributors of another population (none of whom is in this one).
    public mutating func add(_ other: Population) {
        size += other.size
        key += other.key
    }

    /// The population of contributors with these keys.
    public init(keys: some Sequence<CellKey>) {
        self.init()
        for key in keys { add(key) }
    }

    /// The rest of `parent` without this population.
    public func complement(in parent: Population) -> Population {
        Population(size: parent.size - size, key: parent.key - key)
    }
}

/// What a view may see, in one value built from the viewer: which queries it may run, whose
/// names it sees, whether it is held to its own tandems, and how figures about groups are
/// published (exactly for coordinators and auditors, by the cell-key method with a threshold
/// for analysts). The queries ask it, and never look at the role themselves.
public struct DisclosurePolicy: Sendable {
    /// The view this policy is for.
    public let viewer: Viewer
    /// The record keys and the table, when figures are perturbed.
    public let perturbation: (keys: RecordKeys, table: PerturbationTable)?
    /// Mixed into every cell's noise: the number of people erased so far. A `forget` moves
    /// its person out of their unit, level and generation (into "erased"); were the other
    /// groups' noise left as it was, comparing a `--by` table before and after would show
    /// which group lost someone. So every erasure redraws every figure.
    public var epoch = 0
    /// Where every row's record key is kept (`QueryService.disclosure(for:model:)` sets it);
    /// nil: each figure's keys are made for it.
    package var rowKeys: RecordKeyFiles?
    /// Whether group sizes are checked against k and small counts hidden.
    public var protects: Bool { perturbation != nil }

    /// Exact figures, for a coordinator.
    public static let exact = DisclosurePolicy(viewer: .coordinator)

    /// Exact figures for `viewer`; `cellKey(_:table:erased:)` for perturbed ones.
    public init(viewer: Viewer) {
        self.init(viewer: viewer, perturbation: nil)
    }

    private init(viewer: Viewer, perturbation: (keys: RecordKeys, table: PerturbationTable)?, epoch: Int = 0) {
        self.viewer = viewer
        self.perturbation = perturbation
        self.epoch = epoch
    }

    /// Checks that the view may run `query`, per the disclosure table in the README.
    /// - Throws: `DisclosureRefusal` saying why, and what to run instead.
    public func permit(_ query: QueryKind) throws(DisclosureRefusal) { try viewer.permit(query) }

    /// Whether the view sees people's names: coordinators everyone's, a participant their
    /// partners' (`QueryInput.name(of:)` decides whose).
    public var showsNames: Bool {
        switch viewer {
        case .coordinator, .participant: true
        case .analyst, .auditor: false
        }
    }

    /// Whether the view sees everyone's names (coordinators).
    public var showsEveryName: Bool { viewer == .coordinator }

    /// The participant whose own tandems are all this view may see; nil for the other roles.
    public var ownTandemsOf: ParticipantID? {
        if case .participant(let me) = viewer { return me }
        return nil
    }

    /// Whether the view gets a coordinator's working aids: the HTML report's tandem table,
    /// rematch candidates in `due`.
    public var coordinates: Bool { viewer == .coordinator }

    /// The cell-key method with `table`, keyed by `keys`.
    /// - Parameter erased: how many people of the store have been erased (the `epoch`).
    public static func cellKey(
        _ keys: RecordKeys, table: PerturbationTable = .standard, erased: Int = 0
    ) -> DisclosurePolicy {
        DisclosurePolicy(viewer: .analyst, perturbation: (keys, table), epoch: erased)
    }

    /// The population of some people.
    public func population(_ people: some Sequence<ParticipantID>) -> Population {
        Population(keys: keys(of: Array(people)))
    }

    /// Everyone in `people`, keyed by row: no array of their ids is made first (a million
    /// ids were 21 MB at the peak of an analyst's `dropouts --as-of` on the 10M store).
    public func population(everyoneIn people: PeopleTable) -> Population {
        Population(keys: keys(PeopleRowIDs(people.rows), .participant))
    }

    /// The population of some tandems.
    public func population(tandems: some Sequence<TandemID>) -> Population {
        Population(keys: keys(of: Array(tandems)))
    }

    /// The population of the tandems in `rows` that `numbers` names.
    func population(tandemRows numbers: [Int32], in rows: TandemRows) -> Population {
        Population(keys: keys(ofTandemRows: numbers, in: rows))
    }

    /// Each person's record key, in order (all `.empty` for exact views).
    public func keys(of people: [ParticipantID]) -> [CellKey] {
        madeKeys(ListedIDs(ids: people), .participant)
    }

    /// Each tandem's record key, in order (all `.empty` for exact views).
    public func keys(of tandems: [TandemID]) -> [CellKey] {
        madeKeys(ListedIDs(ids: tandems), .tandem)
    }

    /// The record keys of the people in `rows`, in row order, or of the rows `numbers` names,
    /// in its order (all `.empty` for exact views): for callers that hold rows, not ids.
    func keys(ofPeopleRows numbers: [Int32]? = nil, in rows: PeopleRows) -> [CellKey] {
        keys(PeopleRowIDs(rows, numbers: numbers), .participant)
    }

    /// The record keys of the tandems `numbers` names in `rows`, in its order; see
    /// `keys(ofPeopleRows:in:)`.
    func keys(ofTandemRows numbers: [Int32], in rows: TandemRows) -> [CellKey] {
        keys(TandemRowIDs(rows, numbers: numbers), .tandem)
    }

    /// The record keys of the people `ids` names, in its order (all `.empty` for exact views).
    func keys(ofPeople ids: some ContributorIDs) -> [CellKey] { madeKeys(ids, .participant) }

    /// The record keys of the people `ids` names by row, in its order (all `.empty` for exact
    /// views).
    func keys(ofPeople ids: some ContributorRows) -> [CellKey] { keys(ids, .participant) }

    /// The record keys of rows of the model: read from the keys of every row (`rowKeys`)
    /// when `ids` holds at least an eighth of the rows (fewer are made one by one: reading
    /// every row's key costs a fingerprint of every id).
    private func keys(_ ids: some ContributorRows, _ kind: RecordKeys.Kind) -> [CellKey] {
        guard let rowKeys, let keys = perturbation?.keys else { return madeKeys(ids, kind) }
        let every = ids.every
        guard ids.count >= every.count / 8 else { return madeKeys(ids, kind) }
        let all = rowKeys.every(kind, every, keys: keys)
        if ids.isEveryRow { return all }
        var out = [CellKey](repeating: .empty, count: ids.count)
        for position in 0..<ids.count { out[position] = all[ids.row(at: position)] }
        return out
    }

    /// The record keys of `ids`, in order, of `kind`: computed on every core when there are
    /// many, two at a time (each is an HMAC, and an analyst's report over a million people
    /// takes several million of them).
    private func madeKeys(_ ids: some ContributorIDs, _ kind: RecordKeys.Kind) -> [CellKey] {
        var out = [CellKey](repeating: .empty, count: ids.count)
        guard let keys = perturbation?.keys else { return out }
        // Four parts a core: the parts' keys take unequal time (ids of unequal length).
        // `try!`: the filling cannot throw.
        try! fillInParts(&out, parts: LogVerifier.processorCount * 4) { range, buffer in
            keys.fill(kind, ids, range, into: buffer)
        }
        return out
    }

    /// The key of a contributor to add to a population by hand.
    public func key(_ person: ParticipantID) -> CellKey { perturbation?.keys.key(person) ?? .empty }
    /// The key of a tandem.
    public func key(_ tandem: TandemID) -> CellKey { perturbation?.keys.key(tandem) ?? .empty }

    /// The published count of those in `population` who have some property (`variable` names
    /// it: `"withdrawn"`, `"atRisk:3"`). Its noise depends only on the population, the
    /// variable and the true count, so the same cell publishes the same figure everywhere.
    public func count(_ trueCount: Int, in population: Population, _ variable: String) -> Int {
        guard let (_, table) = perturbation else { return trueCount }
        return table.published(trueCount, key: population.key.mixed(salt(variable)))
    }

    /// The published size of a population (its `participants` figure).
    public func size(_ population: Population, _ variable: String = "size") -> Int {
        count(population.size, in: population, variable)
    }

    /// The published total of a magnitude (sessions, minutes): noise up to the largest single
    /// contribution either way, unbiased, drawn from the same population key. The total of
    /// an empty population, or a true 0, stays 0.
    public func magnitude(_ total: Int, largest: Int, in population: Population, _ variable: String) -> Int {
        guard perturbation != nil, total > 0, largest > 0 else { return total }
        // The large-count row of the ptable default (offsets −2…2, variance 1), scaled so
        // that the widest step is the largest contribution: anyone's presence is covered.
        let u = Double(population.key.mixed(salt("magnitude:" + variable)).value) / 4_294_967_296
        let offsets = Self.magnitudeNoise
        var cumulative = 0.0
        var step = offsets[offsets.count - 1].offset
        for (offset, p) in offsets {
            cumulative += p
            if u < cumulative {
                step = offset
                break
            }
        }
        // A total is at least its largest contribution, so it never goes below 0.
        let noise = (Double(step) * Double(largest) / 2).rounded()
        return max(0, total + Int(noise))
    }

    /// The noise of magnitudes in units of half the largest contribution.
    static let magnitudeNoise: [(offset: Int, probability: Double)] = {
        let p = MaximumEntropy.fit(offsets: [-2, -1, 0, 1, 2], variance: 1)
        return zip(-2...2, p).map { ($0, $1) }
    }()

    /// A figure as shown: nil where a perturbed count is positive and below `k`.
    public func shown(_ published: Int, k: Int) -> Int? {
        protects && published > 0 && published < k ? nil : published
    }

    /// Checks a filter for analysts: the sizes, true and published, of the filtered group and
    /// of its complement in `parent` are all at least k (or the complement is empty).
    /// - Throws: `DisclosureRefusal` naming `query`.
    public func checkFilter(
        _ filter: DisclosureRefusal.Filter, selected: Population, parent: Population, k: Int, query: QueryKind
    ) throws(DisclosureRefusal) {
        guard protects else { return }
        let complement = selected.complement(in: parent)
        let shownSelected = size(selected)
        let shownComplement = complement.size == 0 ? 0 : size(complement)
        // Both the true and the published sizes must reach k: a perturbed count alone would
        // let a group of one through whenever its noise rounds it up.
        guard shownSelected >= k, selected.size >= k,
            complement.size == 0 || (shownComplement >= k && complement.size >= k)
        else {
            let part: DisclosureRefusal.Part = shownSelected < k || selected.size < k ? .group : .complement
            throw DisclosureRefusal(role: .analyst, query: query, reason: .threshold(filter: filter, part: part, k: k))
        }
    }

    /// The group labels this view sees: for analysts, a category with fewer than k people in
    /// the programme, or whose published size is below k, is recoded to `other` (a row
    /// `level 12` would say that such a person takes part, even with a perturbed count).
    public func labels(
        of people: @autoclosure () -> [PersonView], by key: SegmentKey, k: Int
    ) -> (PersonView) -> String {
        guard protects else { return key.value(of:) }
        let people = people()
        return labels(of: people, keys: keys(of: people.map(\.id)), by: key, k: k)
    }

    /// `labels(of:by:k:)` for people whose record keys are known (`keys`, in their order):
    /// each key is an HMAC, and a caller that has them need not compute them again.
    public func labels(
        of people: [PersonView], keys: [CellKey], by key: SegmentKey, k: Int
    ) -> (PersonView) -> String {
        guard protects else { return key.value(of:) }
        precondition(people.count == keys.count, "a key for each person")
        var names: [String] = []
        var numbers: [String: Int32] = [:]
        let group = people.map { person -> Int32 in
            let name = key.value(of: person)
            if let n = numbers[name] { return n }
            names.append(name)
            numbers[name] = Int32(names.count - 1)
            return Int32(names.count - 1)
        }
        let shown = shownNames(names, group: group, keys: keys, k: k)
        let small = Set(zip(names, shown).filter { $0 != $1 }.map(\.0))
        return { person in
            let label = key.value(of: person)
            return small.contains(label) ? "other" : label
        }
    }

    /// The name each group is shown under: its own, or for an analyst "other" when it has
    /// fewer than `k` people, counted or as published.
    /// - Parameters:
    ///   - names: the groups' names, each once.
    ///   - group: each person's group, an index into `names`.
    ///   - keys: each person's record key, in the order of `group`.
    public func shownNames(_ names: [String], group: some Collection<Int32>, keys: [CellKey], k: Int) -> [String] {
        guard protects else { return names }
        precondition(group.count == keys.count, "a key for each person")
        var populations = [Population](repeating: Population(), count: names.count)
        for (g, cellKey) in zip(group, keys) { populations[Int(g)].add(cellKey) }
        return names.indices.map { populations[$0].size < k || size(populations[$0]) < k ? "other" : names[$0] }
    }

    /// What `basis.disclosure` says: the method and its parameters.
    public func description(k: Int) -> JSONValue {
        guard let (_, table) = perturbation else { return .object(["method": .string("exact")]) }
        return .object([
            "method": .string("cell-key"), "D": .int(Int64(table.maximumDeviation)),
            "V": .double((table.publishedVariance * 1000).rounded() / 1000),
            "js": .int(Int64(table.smallestHidden)), "base": .int(Int64(table.base)), "k": .int(Int64(k)),
        ])
    }

    /// The note every perturbed output carries.
    public func note(k: Int) -> String? {
        guard let (_, table) = perturbation else { return nil }
        return
            "Figures are perturbed by the cell-key method (each count by at most \(table.maximumDeviation), to a multiple of \(table.base); sessions and minutes by up to the largest single contribution) and counts between 1 and \(k - 1) are not shown. The same people always give the same figure; totals are perturbed as cells of their own, so groups need not add up to them, and rates are computed from the published figures."
    }

    /// A variable's salt in this epoch.
    func salt(_ variable: String) -> UInt64 {
        epoch == 0 ? Self.salt(variable) : Self.salt(variable + "#" + String(epoch))
    }

    /// FNV-1a of a variable's name: a salt that is the same in every process.
    static func salt(_ name: String) -> UInt64 { StableHash.fnv1a(name) }
}

extension QueryResult {
    /// Marks a result as published under `policy`: the cells it hid (in the notes, as
    /// `suppression`, and for the access ledger), the method's note, and `basis.disclosure`.
    /// Nothing changes for an exact view.
    public mutating func disclose(_ hidden: SuppressedCells, under policy: DisclosurePolicy, k: Int) {
        guard policy.protects else { return }
        notes.append(hidden.explanation)
        if let note = policy.note(k: k) { notes.append(note) }
        extra.append(("suppression", hidden.summary))
        suppressedCells = hidden.count
        basis.disclosure = policy.description(k: k)
    }
}
