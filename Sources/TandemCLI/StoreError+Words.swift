import EventLog
import Mentoring
import Projections

/// The words of the store's errors: what is wrong with the files, and what to run about it.
/// The lower layers say what they found; this is the only place that advises.
extension ErrorReport {
    /// A log error as one sentence for the command line.
    static func words(_ error: LogError) -> String {
        switch error {
        case .damaged:
            return
                "\(error) from a backup (or the loss is accepted with `tandem recover --accept-loss --reason TEXT`). Run `tandem verify` for the full report"
        case .damageRecorded:
            return
                "\(error). Restore the store from a backup and run `tandem verify`, or accept the loss with `tandem recover --accept-loss --reason TEXT`"
        case .notInitialized:
            return "\(error); create the store with `tandem init`"
        default:
            return "\(error)"
        }
    }

    /// A store error as one sentence for the command line.
    static func words(_ error: StoreError) -> String {
        switch error {
        case .missing(let path): return "\(error); create one with `tandem init --store \(path)`"
        case .isFile, .notAStore: return "\(error); choose a new or empty directory with --store"
        default: return "\(error)"
        }
    }

    /// Vault damage as one sentence for the command line.
    static func words(_ damage: VaultDamage) -> String {
        (damage.mayBeInterruptedErasure
            ? "\(damage) (if a `tandem forget` was interrupted, run it again)" : "\(damage)")
            + ". Run `tandem verify` after restoring the store from a backup"
    }

    /// An event that cannot be read, as one sentence for the command line.
    static func words(_ error: EventDecodingError) -> String {
        "\(error); run `tandem verify` and restore from a backup"
    }

    /// A query's warning as one sentence for the command line.
    static func words(_ warning: QueryService.Warning) -> String {
        switch warning {
        case .eventsAfterToday(let count, let today, let latest):
            return
                "\(count) event(s) are dated after today (\(today)) and were left out of this report: the clock is behind the log (check the system clock or TANDEM_NOW); pass --as-of \(latest) to include them"
        case .ledgerNotWritten(let error):
            return "this query could not be recorded in the access ledger: \(words(error))"
        }
    }
}
