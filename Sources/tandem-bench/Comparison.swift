import EventLog

/// Saving a run's table as JSON, and comparing it with a saved one: rates and peak memory
/// per case, so that a regression shows as a ratio below 1.
enum Comparison {
    /// The table's own rows (one per case, baselines aside) as a JSON document.
    static func json(_ table: BenchTable) -> JSONValue {
        var seen = Set<String>()
        var cases: [JSONValue] = []
        for row in table.rows where seen.insert(row.name).inserted {
            let baselines = table.rows.filter { $0.name == row.name && $0.baselineRate != nil }
            cases.append(
                .object([
                    "case": .string(row.name), "events": .int(Int64(row.events)), "seconds": .double(row.seconds),
                    "eventsPerSecond": .double(row.rate), "megabytesPerSecond": .double(row.megabytesPerSecond),
                    "peakKB": .int(Int64(row.peakKB)),
                    "baselines": .array(
                        baselines.map {
                            .object([
                                "name": .string($0.baselineName), "eventsPerSecond": .double($0.baselineRate ?? 0),
                            ])
                        }),
                ]))
        }
        return .object(["tandemBench": .int(1), "cases": .array(cases)])
    }

    /// Writes `json(table)` to `path`.
    static func save(_ table: BenchTable, to path: String) throws {
        var writer = JSONWriter()
        writer.write(json(table))
        writer.writeRaw("\n")
        try FileSystem.replaceAtomically(path, with: writer.bytes, mode: 0o644)
    }

    /// One case of a saved run.
    struct SavedCase {
        var rate: Double
        var peakKB: Int
        /// The first baseline's rate in that run, to tell a slower machine from slower code.
        var baselineRate: Double?
    }

    /// Reads a file written by `save`.
    /// - Throws: `BenchFailure` naming what is wrong with it.
    static func load(_ path: String) throws -> [String: SavedCase] {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch { throw BenchFailure("cannot read \(path): \(error)") }
        let document: JSONValue
        do { document = try JSONScanner.parse(bytes) } catch {
            throw BenchFailure("\(path) is not JSON: \(error)")
        }
        guard document.objectValue?["tandemBench"] != nil, let cases = document.objectValue?["cases"]?.arrayValue else {
            throw BenchFailure("\(path) was not written by tandem-bench --json")
        }
        var saved: [String: SavedCase] = [:]
        for item in cases {
            guard let object = item.objectValue, let name = object["case"]?.stringValue,
                let rate = object["eventsPerSecond"]?.doubleValue, let peak = object["peakKB"]?.intValue
            else { throw BenchFailure("\(path) has a case without case, eventsPerSecond or peakKB") }
            let baseline = object["baselines"]?.arrayValue?.first?.objectValue?["eventsPerSecond"]?.doubleValue
            saved[name] = SavedCase(rate: rate, peakKB: Int(peak), baselineRate: baseline)
        }
        return saved
    }

    /// Prints, per case of this run, its rate and peak memory as ratios to the saved run's.
    /// A rate ratio below 0.95 is marked as a regression, unless the baseline measured in
    /// the same runs slowed down as much (then the machine was slower, not the code).
    static func printComparison(_ table: BenchTable, with saved: [String: SavedCase], name: String) {
        print("\ncompared with \(name):")
        print(
            Harness.pad("case", 36) + Harness.pad("events/s", 12, right: true) + Harness.pad("then", 12, right: true)
                + Harness.pad("ratio", 8, right: true) + Harness.pad("RSS ratio", 11, right: true)
                + Harness.pad("baseline ratio", 16, right: true))
        var seen = Set<String>()
        for row in table.rows where seen.insert(row.name).inserted {
            guard let old = saved[row.name] else {
                print(
                    Harness.pad(row.name, 36) + Harness.pad(Harness.short(row.rate), 12, right: true) + "   (new case)")
                continue
            }
            let ratio = old.rate > 0 ? row.rate / old.rate : 0
            let memory = old.peakKB > 0 ? Double(row.peakKB) / Double(old.peakKB) : 0
            let baseline: Double? = {
                guard let then = old.baselineRate, then > 0,
                    let now = table.rows.first(where: { $0.name == row.name && $0.baselineRate != nil })?.baselineRate
                else { return nil }
                return now / then
            }()
            let machineSlower = baseline.map { $0 < 0.95 && ratio >= $0 * 0.95 } ?? false
            let verdict = ratio < 0.95 ? (machineSlower ? "  (the baseline slowed as much)" : "  slower") : ""
            print(
                Harness.pad(row.name, 36) + Harness.pad(Harness.short(row.rate), 12, right: true)
                    + Harness.pad(Harness.short(old.rate), 12, right: true)
                    + Harness.pad(Harness.fixed(ratio, 2) + "×", 8, right: true)
                    + Harness.pad(Harness.fixed(memory, 2) + "×", 11, right: true)
                    + Harness.pad(baseline.map { Harness.fixed($0, 2) + "×" } ?? "–", 16, right: true) + verdict)
        }
    }
}
