import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// The tools our users compare us with, run on the same files in the same invocation. A
/// tool that is not installed gives "skipped", never a made-up number.
enum Baselines {
    /// A measured baseline: how many events it handled, in how long, with what peak memory.
    struct Run {
        var name: String
        var events: Int
        var seconds: Double
        var peakKB: Int
        var rate: Double { seconds > 0 ? Double(events) / seconds : 0 }
    }

    /// Writes a script into the work directory and returns its path.
    static func script(_ work: String, _ name: String, _ text: String) throws -> String {
        let path = work + "/" + name
        let fd = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try fd.writeAll(Array(text.utf8))
        return path
    }

    /// Runs a baseline whose first output line is its event count; nil if the tool is
    /// missing or it failed (said on the console).
    static func run(_ name: String, tool: String, _ arguments: [String], expect events: Int? = nil) -> Run? {
        guard let path = tool.hasPrefix("/") ? tool : Harness.which(tool) else { return nil }
        let outcome = Harness.run(path, arguments)
        guard outcome.status == 0, let count = Int(outcome.stdout.split(separator: "\n").first.map(String.init) ?? "")
        else {
            print("  baseline \(name) failed: \(outcome.stdout.prefix(300))")
            return nil
        }
        if let events, count != events { print("  baseline \(name) counted \(count) events, expected \(events)") }
        return Run(name: name, events: count, seconds: outcome.seconds, peakKB: outcome.peakKB)
    }

    /// Python: json.loads of every line and a small projection (people, tandems, sessions,
    /// goals, withdrawals), the way an analyst would script it.
    static let pythonProjection = """
        import json, sys
        people, tandems, goals = {}, {}, {}
        n = 0
        with open(sys.argv[1], "rb") as f:
            for line in f:
                e = json.loads(line)
                n += 1
                t, d = e["type"], e["data"]
                if t == "SessionHeld":
                    x = tandems.get(d["tandem"])
                    if x is not None:
                        x[1] += 1
                        x[2] += d["minutes"]
                elif t == "ParticipantSignedUp":
                    people[d["participant"]] = [d["programme"], d["role"], None]
                elif t == "TandemMatched":
                    tandems[d["tandem"]] = ["active", 0, 0, d["mentor"], d["mentee"]]
                elif t == "GoalSet":
                    goals[(d["tandem"], d["goal"])] = None
                elif t == "GoalReached":
                    goals[(d["tandem"], d["goal"])] = d["on"]
                elif t == "ParticipantWithdrew":
                    p = people.get(d["participant"])
                    if p is not None:
                        p[2] = d["on"]
                elif t == "TandemCompleted":
                    x = tandems.get(d["tandem"])
                    if x is not None:
                        x[0] = "completed"
                elif t == "PartnerSwapped":
                    x = tandems.get(d["tandem"])
                    if x is not None:
                        x[0] = "dissolved"
                        tandems[d["newTandem"]] = ["active", 0, 0, d["joining"], d["leaving"]]
        print(n)
        print(len(people), sum(1 for t in tandems.values() if t[0] == "active"), sum(t[1] for t in tandems.values()),
              sum(1 for g in goals.values() if g is not None))
        """

    /// jq counting events per type (the whole log through jq's parser).
    static func jq(_ file: String) -> Run? {
        guard let jq = Harness.which("jq") else { return nil }
        let outcome = Harness.run(jq, ["-c", "-n", "reduce inputs as $e ({}; .[$e.type] += 1)", file])
        guard outcome.status == 0 else {
            print("  baseline jq failed")
            return nil
        }
        // {"LogCreated":1,"ProgrammeLaunched":1,…}: add up the counts.
        var total = 0, number = 0, inNumber = false
        for c in outcome.stdout.utf8 {
            if c >= 48 && c <= 57 && inNumber {
                number = number * 10 + Int(c - 48)
            } else if c == UInt8(ascii: ":") {
                inNumber = true
                number = 0
            } else if inNumber && (c == UInt8(ascii: ",") || c == UInt8(ascii: "}")) {
                total += number
                inNumber = false
            }
        }
        return Run(name: "jq: count per type", events: total, seconds: outcome.seconds, peakKB: outcome.peakKB)
    }

    /// sqlite3: import every line into a table, then group by type with json_extract.
    static func sqlite(_ file: String) -> Run? {
        guard let sqlite = Harness.which("sqlite3") else { return nil }
        let outcome = Harness.run(
            sqlite,
            [
                ":memory:", "-cmd", ".mode tabs", "-cmd", "CREATE TABLE e(j TEXT)", "-cmd", ".import \(file) e",
                "SELECT count(*) FROM e; SELECT json_extract(j, '$.type'), count(*) FROM e GROUP BY 1;",
            ])
        guard outcome.status == 0, let count = Int(outcome.stdout.split(separator: "\n").first.map(String.init) ?? "")
        else {
            print("  baseline sqlite3 failed: \(outcome.stdout.prefix(200))")
            return nil
        }
        return Run(name: "sqlite3: import + GROUP BY", events: count, seconds: outcome.seconds, peakKB: outcome.peakKB)
    }

    /// Python's sqlite3: the batch's commands inserted in one transaction, committed
    /// (a database's durable bulk insert, with no rule checked).
    static let pythonSQLiteInsert = """
        import sqlite3, sys, os
        path = sys.argv[2]
        if os.path.exists(path): os.remove(path)
        db = sqlite3.connect(path)
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE c(j TEXT)")
        with open(sys.argv[1], "rb") as f:
            rows = [(line.decode(),) for line in f]
        with db:
            db.executemany("INSERT INTO c VALUES (?)", rows)
        print(len(rows))
        """

    /// SciPy's Hungarian algorithm on a random matrix of the same size (the bare
    /// assignment, without scoring or output).
    static let scipyAssignment = """
        import sys, time
        try:
            import numpy as np
            from scipy.optimize import linear_sum_assignment
        except ImportError:
            sys.exit(3)
        m, n = int(sys.argv[1]), int(sys.argv[2])
        rng = np.random.default_rng(7)
        cost = rng.random((m, n))
        started = time.perf_counter()
        rows, cols = linear_sum_assignment(cost, maximize=True)
        print(m * n)
        print(time.perf_counter() - started)
        """
}
