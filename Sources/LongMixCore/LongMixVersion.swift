/// The LongMix release, recorded in every pack manifest so a pack names the code that made it.
public enum LongMixVersion {
    public static let current = "0.4.0"
}
