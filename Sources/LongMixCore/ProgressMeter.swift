import Foundation

/// Progress of a long job whose total is known up front: input bytes (the sizes of its files), or
/// a count of items such as the tokens a training run or an evaluation will process; percent done,
/// rate and time left, on standard error.
///
/// Contract: readers call `add(_:note:)` (from any thread) with the bytes (or items) they consumed,
/// optionally replacing the note shown after the rate (a trainer's step and loss); the meter
/// renders at most once per `interval`, as a bar redrawn in place (`.bar`, for a terminal) or as
/// plain lines (`.lines`, for logs). `stage(_:total:)` starts another pass with its own label and
/// total. `finish()` renders the final state and ends the line. Rendering never throws and
/// never writes to standard output.
public final class ProgressMeter: @unchecked Sendable {
    public enum Style: Sendable { case bar, lines }

    /// What the meter counts: bytes (shown as MB, MB/s) or named items (`.items("tokens")`:
    /// `1,024 tokens`, `512 tokens/s`).
    public enum Unit: Sendable, Equatable {
        case bytes
        case items(String)
    }

    public let style: Style
    public let unit: Unit
    public let interval: Duration
    private let lock = NSLock()
    private let clock = ContinuousClock()
    private let output: @Sendable (String) -> Void
    private var label: String
    private var total: Int
    private var done = 0
    private var note: String?
    private var started: ContinuousClock.Instant
    private var lastRender: ContinuousClock.Instant?
    private var finished = false

    /// `interval` defaults to 0.2 s for a bar and 10 s for lines. `output` receives each rendering
    /// (default: standard error).
    public init(label: String, total: Int, unit: Unit = .bytes, style: Style, interval: Duration? = nil,
                output: @escaping @Sendable (String) -> Void = ProgressMeter.standardError) {
        self.label = label
        self.total = max(total, 0)
        self.unit = unit
        self.style = style
        self.interval = interval ?? (style == .bar ? .milliseconds(200) : .seconds(10))
        self.output = output
        started = clock.now
    }

    /// Counts `amount` more bytes (or items) consumed, and shows `note` from now on when given;
    /// renders when `interval` has passed since the last time.
    public func add(_ amount: Int, note: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        done += amount
        if let note { self.note = note }
        let now = clock.now
        if let lastRender, now - lastRender < interval { return }
        lastRender = now
        output(rendering(now: now))
    }

    /// Starts another pass over `total` bytes (or items) under `label` (the previous one is finished).
    public func stage(_ label: String, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        if done > 0 && !finished { output(rendering(now: clock.now) + (style == .bar ? "\n" : "")) }
        self.label = label
        self.total = max(total, 0)
        done = 0
        note = nil
        started = clock.now
        lastRender = nil
        finished = false
    }

    /// Renders the final state of the current pass and ends its line. Idempotent.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        output(rendering(now: clock.now) + (style == .bar ? "\n" : ""))
    }

    private func rendering(now: ContinuousClock.Instant) -> String {
        let elapsed = now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return ProgressMeter.render(label: label, done: done, total: total, seconds: seconds, style: style, unit: unit, note: note)
    }

    /// One rendering: `label [#####-----]  42.0%  120.5 MB/s  ETA 0:12  NOTE` (a bar starts with
    /// `\r` so it redraws in place) or `label: 42.0% of 1.20 GB, 120.5 MB/s, ETA 0:12, elapsed 0:09,
    /// NOTE` (a line); items render as `of 4,096 tokens, 512 tokens/s`.
    public static func render(label: String, done: Int, total: Int, seconds: Double, style: Style,
                              unit: Unit = .bytes, note: String? = nil) -> String {
        let fraction = total > 0 ? min(Double(done) / Double(total), 1) : 0
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let remaining = rate > 0 ? Double(max(total - done, 0)) / rate : nil
        let percent = String(format: "%5.1f%%", fraction * 100)
        let speed: String, amount: String
        switch unit {
        case .bytes:
            speed = String(format: "%.1f MB/s", rate / 1e6)
            amount = size(total)
        case .items(let name):
            speed = grouped(Int(rate.rounded())) + " \(name)/s"
            amount = grouped(total) + " " + name
        }
        let eta = remaining.map { "ETA " + clockTime($0) } ?? "ETA --:--"
        switch style {
        case .bar:
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            return "\r\(label) [\(bar)] \(percent)  \(speed)  \(eta)" + (note.map { "  " + $0 } ?? "") + "  \u{1B}[K"
        case .lines:
            return "\(label): \(percent.trimmingCharacters(in: .whitespaces)) of \(amount), \(speed), \(eta)"
                + ", elapsed \(clockTime(seconds))" + (note.map { ", " + $0 } ?? "") + "\n"
        }
    }

    /// `1,234,567`.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `m:ss` or `h:mm:ss`.
    static func clockTime(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%d:%02d", s / 60, s % 60)
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1_000_000_000 ? String(format: "%.2f GB", Double(bytes) / 1e9) : String(format: "%.1f MB", Double(bytes) / 1e6)
    }

    @Sendable public static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
