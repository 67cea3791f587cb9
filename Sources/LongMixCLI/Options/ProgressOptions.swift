import ArgumentParser
import Foundation
import LongMixCore

/// `--progress` / `--quiet`: a bar on a terminal by default, plain periodic lines with
/// `--progress` when standard error is not a terminal, nothing with `--quiet`.
struct ProgressOptions: ParsableArguments {
    @Flag(help: "Report progress even when standard error is not a terminal (plain lines every 10 s).")
    var progress = false

    @Flag(help: "No progress reporting.")
    var quiet = false

    func validate() throws {
        if progress && quiet { throw ValidationError("--progress and --quiet exclude each other") }
    }

    /// The meter for a pass over `totalBytes` of input, or nil when nothing is to be shown.
    func meter(_ label: String, totalBytes: Int) -> ProgressMeter? {
        meter(label, total: totalBytes, unit: .bytes)
    }

    /// The meter for a pass over `total` items (`unit`), or nil when nothing is to be shown.
    func meter(_ label: String, total: Int, unit: ProgressMeter.Unit) -> ProgressMeter? {
        if quiet { return nil }
        if isatty(2) != 0 { return ProgressMeter(label: label, total: total, unit: unit, style: .bar) }
        return progress ? ProgressMeter(label: label, total: total, unit: unit, style: .lines) : nil
    }
}
