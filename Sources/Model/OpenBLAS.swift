import Foundation

/// OpenBLAS, opened the first time a model needs it instead of linked into the `longmix` executable.
///
/// Linked, its library constructor starts a pool of spinning server threads in every process, so
/// every command (`stats`, `tokenize`, `build`, ...) paid about 0.2 s of wall time for matrix products
/// it never runs. Opened here, only the commands that run a model load it.
///
/// Contract: `loadOpenBLAS(threads:)` opens the library once per process (later calls only set the
/// thread count) and throws `OpenBLASError` naming the library and the package that provides it when
/// it is absent. Commands call it once, before any model runs; the matrix products below open the
/// library themselves if no one did (tests), and stop with the same message if it cannot be opened.
public func loadOpenBLAS(threads: Int) throws {
    let library = try openedOpenBLAS.get()
    library.setThreadCount(Int32(threads))
}

/// OpenBLAS could not be opened or lacks an entry point.
public struct OpenBLASError: Error, CustomStringConvertible {
    public let description: String
}

/// Whether an sgemm operand is used as stored or transposed (CBLAS_TRANSPOSE's values).
enum BLASTranspose: Int32 {
    case none = 111
    case transposed = 112
}

/// C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C, all row-major (cblas_sgemm with
/// CblasRowMajor); lda, ldb and ldc are row strides in elements.
@inline(__always)
func sgemm(_ transA: BLASTranspose, _ transB: BLASTranspose, _ m: Int32, _ n: Int32, _ k: Int32,
           _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32,
           _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
    let library: OpenBLASLibrary
    switch openedOpenBLAS {
    case .success(let opened): library = opened
    case .failure(let error): fatalError("\(error)")
    }
    library.sgemm(rowMajor, transA.rawValue, transB.rawValue, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

/// CBLAS_ORDER's CblasRowMajor.
private let rowMajor: Int32 = 101

/// The entry points LongMix uses, resolved from the shared library.
private struct OpenBLASLibrary: Sendable {
    typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreadCount = @convention(c) (Int32) -> Void

    let sgemm: SGEMM
    let setThreadCount: SetThreadCount

    /// The sonames Debian's libopenblas0 (through update-alternatives) and a plain install provide.
    static let names = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]

    static func open() -> Result<OpenBLASLibrary, OpenBLASError> {
        var reasons: [String] = []
        for name in names {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                reasons.append(dlerror().map { String(cString: $0) } ?? name)
                continue
            }
            guard let sgemm = dlsym(handle, "cblas_sgemm"), let threads = dlsym(handle, "openblas_set_num_threads") else {
                return .failure(OpenBLASError(description: "\(name) has no cblas_sgemm or openblas_set_num_threads: is it OpenBLAS?"))
            }
            return .success(OpenBLASLibrary(sgemm: unsafeBitCast(sgemm, to: SGEMM.self),
                                            setThreadCount: unsafeBitCast(threads, to: SetThreadCount.self)))
        }
        return .failure(OpenBLASError(description: "OpenBLAS is needed to run a model and could not be opened ("
            + reasons.joined(separator: "; ") + "); install it with `apt-get install libopenblas0`"))
    }
}

/// Opened once, on first use (Swift initializes globals lazily and exactly once).
private let openedOpenBLAS = OpenBLASLibrary.open()
