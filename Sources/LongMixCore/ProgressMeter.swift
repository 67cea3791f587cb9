import Foundation

/// Progress of a long job over input bytes whose total is known up front (the sizes of its files):
/// percent done, rate and time left, on standard error.
///
/// Contract: byte-counting readers call `add(_:)` (from any thread) with the bytes they consumed;
/// the meter renders at most once per `interval`, as a bar redrawn in place (`.bar`, for a
/// terminal) or as plain lines (`.lines`, for logs). `stage(_:totalBytes:)` starts another pass
/// with its own label and total. `finish()` renders the final state and ends the line. Rendering
/// never throws and never writes to standard output.
public final class ProgressMeter: @unchecked Sendable {
    public enum Style: Sendable { case bar, lines }

    public let style: Style
    public let interval: Duration
    private let lock = NSLock()
    private let clock = ContinuousClock()
    private let output: @Sendable (String) -> Void
    private var label: String
    private var total: Int
    private var done = 0
    private var started: ContinuousClock.Instant
    private var lastRender: ContinuousClock.Instant?
    private var finished = false

    /// `interval` defaults to 0.2 s for a bar and 10 s for lines. `output` receives each rendering
    /// (default: standard error).
    public init(label: String, totalBytes: Int, style: Style, interval: Duration? = nil,
                output: @escaping @Sendable (String) -> Void = ProgressMeter.standardError) {
        self.label = label
        self.total = max(totalBytes, 0)
        self.style = style
        self.interval = interval ?? (style == .bar ? .milliseconds(200) : .seconds(10))
        self.output = output
        started = clock.now
    }

    /// Counts `bytes` more input consumed; renders when `interval` has passed since the last time.
    public func add(_ bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        done += bytes
        let now = clock.now
        if let lastRender, now - lastRender < interval { return }
        lastRender = now
        output(rendering(now: now))
    }

    /// Starts another pass over `totalBytes` of input under `label` (the previous one is finished).
    public func stage(_ label: String, totalBytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        if done > 0 && !finished { output(rendering(now: clock.now) + (style == .bar ? "\n" : "")) }
        self.label = label
        total = max(totalBytes, 0)
        done = 0
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
        return ProgressMeter.render(label: label, done: done, total: total, seconds: seconds, style: style)
    }

    /// One rendering: `label [#####-----]  42.0%  120.5 MB/s  ETA 0:12` (a bar starts with `\r`
    /// so it redraws in place) or `label: 42.0% of 1.20 GB, 120.5 MB/s, ETA 0:12` (a line).
    public static func render(label: String, done: Int, total: Int, seconds: Double, style: Style) -> String {
        let fraction = total > 0 ? min(Double(done) / Double(total), 1) : 0
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let remaining = rate > 0 ? Double(max(total - done, 0)) / rate : nil
        let percent = String(format: "%5.1f%%", fraction * 100)
        let speed = String(format: "%.1f MB/s", rate / 1e6)
        let eta = remaining.map { "ETA " + clockTime($0) } ?? "ETA --:--"
        switch style {
        case .bar:
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            return "\r\(label) [\(bar)] \(percent)  \(speed)  \(eta)  \u{1B}[K"
        case .lines:
            return "\(label): \(percent.trimmingCharacters(in: .whitespaces)) of \(size(total)), \(speed), \(eta)"
                + ", elapsed \(clockTime(seconds))\n"
        }
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
