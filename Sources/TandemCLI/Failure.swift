import EventLog
import Mentoring
import Projections

/// A refusal or failure a command reports: exit code 1 with `Error: …`.
public struct CommandFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong and what to do about it.
    public var message: String
    /// The exit code (1 unless said otherwise).
    public var exitCode: Int32
    /// For a refusal of what was asked (not a failure to do it), the code the access ledger
    /// records as `refused:<code>`.
    public var refusal: String?

    public init(_ message: String, exitCode: Int32 = 1, refusal: String? = nil) {
        self.message = message
        self.exitCode = exitCode
        self.refusal = refusal
    }

    public var description: String { message }
}

/// What the access ledger records of a query that did not answer: `refused:<code>` when it
/// was not allowed or not possible as asked, `failed` when the store or the system failed.
extension UsageError: LedgerOutcome {
    public var ledgerOutcome: String { "refused:usage" }
}

extension CommandFailure: LedgerOutcome {
    public var ledgerOutcome: String { refusal.map { "refused:" + $0 } ?? "failed" }
}

/// Exit codes, as the command-line contract fixes them.
public enum ExitCode {
    /// Success.
    public static let ok: Int32 = 0
    /// A refusal or failure, with `Error: …` on stderr.
    public static let failure: Int32 = 1
    /// A usage error (sysexits EX_USAGE).
    public static let usage: Int32 = 64
    /// A damaged log (sysexits EX_DATAERR).
    public static let damagedLog: Int32 = 65
}

/// The one place that turns any error into its message and exit code.
public enum ErrorReport {
    /// An error in the command line's words: the lower layers name an option by its name
    /// (`minutes`), the command line by its flag (`--minutes`).
    static func words(_ error: any Error) -> String {
        switch error {
        case let domain as DomainError: return words(domain)
        case let refusal as DisclosureRefusal: return words(refusal)
        case let query as QueryError: return words(query)
        case let log as LogError: return words(log)
        case let store as StoreError: return words(store)
        case let damage as VaultDamage: return words(damage)
        case let decoding as EventDecodingError: return words(decoding)
        case let batch as BatchFailure: return "command \(batch.index + 1): \(words(batch.error))"
        default: return "\(error)"
        }
    }

    /// The exit code and the text for stderr (without the trailing newline).
    /// Values quoted in a message are shown, never obeyed: control characters are escaped.
    public static func describe(_ error: any Error, parser: ArgumentParser) -> (code: Int32, text: String) {
        let (code, text) = describeRaw(error, parser: parser)
        // A usage error's own lines (the message is escaped where it is built).
        return error is UsageError ? (code, text) : (code, text.escapingControlCharacters)
    }

    private static func describeRaw(_ error: any Error, parser: ArgumentParser) -> (code: Int32, text: String) {
        switch error {
        case let usage as UsageError:
            let command = (["tandem"] + usage.path).joined(separator: " ")
            return (
                ExitCode.usage,
                "Error: \(usage.message.escapingControlCharacters)\nUsage: \(parser.usage(usage.path))\n  See '\(command) --help' for more information."
            )
        case let failure as CommandFailure:
            return (failure.exitCode, "Error: \(failure.message)")
        case let domain as DomainError:
            return (ExitCode.failure, "Error: \(words(domain))")
        case let refusal as DisclosureRefusal:
            return (ExitCode.failure, "Error: \(words(refusal))")
        case let query as QueryError:
            return (ExitCode.failure, "Error: \(words(query))")
        case let batch as BatchFailure:
            return (ExitCode.failure, "Error: \(words(batch))")
        case let log as LogError:
            return (log.isDamage ? ExitCode.damagedLog : ExitCode.failure, "Error: \(words(log))")
        case let damage as VaultDamage:
            return (ExitCode.damagedLog, "Error: \(words(damage))")
        case let decoding as EventDecodingError:
            return (ExitCode.damagedLog, "Error: \(words(decoding))")
        case let store as StoreError:
            return (store.isDamage ? ExitCode.damagedLog : ExitCode.failure, "Error: \(words(store))")
        case let system as SystemError:
            return (ExitCode.failure, "Error: \(system)")
        case let snapshot as SnapshotError:
            // A cache that fails its checks is set aside before a query answers; this one
            // failed while the answer was printed (the whole audit trail checks the
            // timeline's voids line by line).
            return (
                ExitCode.failure,
                "Error: a file in the store's cache/ does not match the log (\(snapshot)); delete the store's "
                    + "cache/ directory (it is rebuilt from the log) and run the command again."
            )
        case let described as any CustomStringConvertible:
            return (ExitCode.failure, "Error: \(described)")
        default:
            return (ExitCode.failure, "Error: \(error)")
        }
    }
}
