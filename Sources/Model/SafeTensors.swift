import Foundation
import LongMixCore
import ShardIO

/// The safetensors format: u64 little-endian header length, a JSON header
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}` (offsets
/// relative to the data section), then the raw little-endian tensor data.
public enum SafeTensors {
    /// Writes float32 tensors (in the given order) to `path` (an `AtomicFileWriter`: an existing
    /// file is refused unless `existing` is `.replace`).
    public static func write(path: String, existing: ExistingFile = .refuse, tensors: [(name: String, shape: [Int], data: UnsafePointer<Float>)],
                             metadata: [String: String] = ["format": "pt"]) throws {
        let file = try AtomicFileWriter(path: path, existing: existing)
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for t in tensors {
            let bytes = t.shape.reduce(1, *) * 4
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors {
            out.append(UnsafeBufferPointer(start: t.data, count: t.shape.reduce(1, *)))
        }
        try out.withUnsafeBytes { try file.write($0) }
        try file.commit()
    }

    /// A memory-mapped safetensors file whose tensors can be read as float32.
    public final class File {
        public let path: String
        public let entries: [String: (dtype: String, shape: [Int], begin: Int, end: Int)]
        private let data: Data
        private let dataStart: Int

        public init(path: String) throws {
            self.path = path
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
                throw InputError.file(path, reason: .unreadable, "cannot read the safetensors file")
            }
            self.data = data
            guard data.count >= 8 else { throw InputError.file(path, reason: .truncated, "shorter than the 8-byte header length") }
            let length = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
            guard length <= data.count - 8,
                  let object = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))),
                  let header = object as? [String: Any] else {
                throw InputError.file(path, reason: .malformedHeader, "the JSON header (\(length) bytes) is missing or not an object")
            }
            dataStart = 8 + length
            var entries: [String: (String, [Int], Int, Int)] = [:]
            for (name, value) in header where name != "__metadata__" {
                guard let e = value as? [String: Any], let dtype = e["dtype"] as? String, let shape = e["shape"] as? [Int],
                      let offsets = e["data_offsets"] as? [Int], offsets.count == 2 else {
                    throw InputError(location: RecordLocation(file: path, line: 0), field: name, reason: .malformedHeader,
                                     message: "tensor entry needs dtype, shape and data_offsets")
                }
                guard offsets[0] <= offsets[1], dataStart + offsets[1] <= data.count else {
                    throw InputError(location: RecordLocation(file: path, line: 0), field: name, reason: .truncated,
                                     message: "data_offsets \(offsets) run past the end of the file")
                }
                entries[name] = (dtype, shape, offsets[0], offsets[1])
            }
            self.entries = entries
        }

        /// Copies tensor `name` into `destination` as float32, converting from F32, F16 or BF16;
        /// the shape must be `shape`.
        public func read(_ name: String, shape: [Int], into destination: UnsafeMutablePointer<Float>) throws {
            func fail(_ reason: DropReason, _ message: String) -> InputError {
                InputError(location: RecordLocation(file: path, line: 0), field: name, reason: reason, message: message)
            }
            guard let e = entries[name] else { throw fail(.missingTensor, "no such tensor in the checkpoint") }
            guard e.shape == shape else { throw fail(.shapeMismatch, "shape \(e.shape), the model config needs \(shape)") }
            let count = shape.reduce(1, *)
            let width = ["F32": 4, "F16": 2, "BF16": 2][e.dtype]
            guard let width else { throw fail(.unsupportedDtype, "dtype \(e.dtype); LongMix reads F32, F16 and BF16") }
            guard e.end - e.begin == count * width else { throw fail(.sizeMismatch, "\(e.end - e.begin) bytes for \(count) \(e.dtype) values") }
            data.withUnsafeBytes { raw in
                let base = raw.baseAddress! + dataStart + e.begin
                for i in 0..<count {
                    switch e.dtype {
                    case "F32": destination[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    case "BF16": destination[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    default: destination[i] = halfToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    }
                }
            }
        }
    }

    /// IEEE 754 binary16 to binary32 (normals, subnormals, infinities, NaN).
    public static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F), fraction = Float(h & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
