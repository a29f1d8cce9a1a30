import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// A file a command writes besides the log (`report --html`, `due --ics`, the demo's
/// report), checked before anything is written.
///
/// Nothing derived is written inside the store: the store holds the log, the vault and
/// their records only, and a report written over `events.jsonl` would destroy the log. The
/// path is resolved as the kernel would open it (every symlink followed, including one at
/// the file itself that points nowhere yet), so a link cannot smuggle a write in.
enum OutputFile {
    /// A file name to suggest instead, by option.
    static let suggestions = ["html": "report.html", "ics": "invitations.ics"]

    /// The absolute path to write, or a refusal naming the option.
    /// - Throws: `CommandFailure` if the path resolves inside the store or is a directory.
    static func checked(_ path: String, option: String, store: Store) throws -> String {
        if FileSystem.kind(of: path).isDirectory {
            throw CommandFailure("\(path) is a directory; give a file name for --\(option)", refusal: "output-path")
        }
        let root = resolved(store.root)
        let target = resolved(path)
        if target == root || target.hasPrefix(root == "/" ? "/" : root + "/") {
            let through = target == path ? "" : " (it resolves to \(target))"
            throw CommandFailure(
                "--\(option) \(path) lies inside the store \(store.root)\(through); the store holds only the log, the vault and their records, and nothing else is written there. Write the file outside the store, e.g. --\(option) ./\(suggestions[option] ?? FileSystem.baseName(of: path))",
                refusal: "output-path")
        }
        return path
    }

    /// `path` with every symlink resolved: `realpath` of the longest existing prefix, then
    /// the rest; a dangling link is followed to where it points (up to 40 links).
    static func resolved(_ path: String, depth: Int = 0) -> String {
        if let real = FileSystem.realPath(path) { return real }
        if depth < 40, let link = FileSystem.linkTarget(of: path), !link.isEmpty {
            let next = link.hasPrefix("/") ? link : FileSystem.parentDirectory(of: path) + "/" + link
            return resolved(next, depth: depth + 1)
        }
        let parent = FileSystem.parentDirectory(of: path)
        guard parent != path, !parent.isEmpty else { return path }
        let base = FileSystem.baseName(of: path)
        let head = resolved(parent, depth: depth)
        return (head == "/" ? "" : head) + "/" + base
    }
}
