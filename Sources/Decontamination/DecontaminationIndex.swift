import Foundation
import GRDB
import LongMixCore
import ShardIO

/// Where an indexed n-gram came from.
public struct Provenance: Sendable, Hashable, Comparable {
    public var scenario: String
    public var split: String
    public var instanceID: String
    public var part: InstancePart

    public static func < (a: Provenance, b: Provenance) -> Bool {
        (a.scenario, a.split, a.instanceID, a.part.rawValue) < (b.scenario, b.split, b.instanceID, b.part.rawValue)
    }
}

/// One (scenario, split) of the index with its instance count, for HELM-style summaries.
public struct IndexedScenario: Sendable, Hashable {
    public var scenario: String
    public var split: String
    /// HELM's `scenario_spec` as canonical JSON, when the export had one.
    public var spec: String?
    public var instanceCount: Int
}

/// What one import added.
public struct ImportCounts: Sendable, Equatable {
    /// Instances read from the file(s), in any split.
    public var instancesRead = 0
    /// Instances skipped because their split is not indexed.
    public var instancesSkippedSplit = 0
    /// Instances new to the index (re-imports add none).
    public var instancesAdded = 0
    /// Input or reference texts with fewer than n words (they cannot overlap anything).
    public var partsTooShort = 0
    /// N-gram rows (hash, instance, part) new to the index.
    public var ngramsAdded = 0

    public init() {}
}

/// The persistent n-gram index of test sets, a SQLite database (GRDB).
///
/// Schema (all keys indexed; re-importing the same data adds nothing):
/// - `parameters(key, value)`: `n`, `normalization`, `hash` (the hashing scheme version);
///   fixed at creation. Opening with other parameters, or scanning with them, is refused.
/// - `scenarios(id, name, split, spec)`, UNIQUE(name, split)
/// - `instances(id, scenario, instance_id)`, UNIQUE(scenario, instance_id)
/// - `ngrams(hash, instance, part)`, PRIMARY KEY(hash, instance, part) WITHOUT ROWID; `hash` is
///   the 64-bit n-gram hash stored as its signed bit pattern; `part` 0 = input, 1 = reference.
/// - `test_set_files(sha256, splits)`: each test-set file imported whole (by the sha256 of its
///   bytes) and the splits taken from it (`all`, or sorted and comma-separated), written in the
///   import's transaction, so a reader can check that its test sets are in without writing
///   (`missingTestSets`). Indexes made before this table have none: their files count as missing
///   until imported again (which adds no n-gram, only the record).
///
/// The scanner never queries SQLite per n-gram: `loadNGramSet()` reads all hashes into memory
/// once; `provenance(of:)` is asked only about hits.
public final class DecontaminationIndex: Sendable {
    public let path: String
    public let n: Int
    public let normalization: Normalization
    let database: DatabaseQueue

    /// Identifies the word and n-gram hash functions; bumped if they ever change.
    static let hashScheme = "fnv1a-splitmix-poly-v1"

    /// How long a connection waits for another process's lock before failing (seconds): a
    /// concurrent import of the HELM core scenarios takes well under this.
    public static let busyTimeout: TimeInterval = 600

    /// The accepted n-gram lengths.
    public static let ngramLengths = 1...64

    /// Opens the index at `path` for writing (imports), creating it with `n` and `normalization`
    /// when it does not exist. An existing index with other parameters is refused
    /// (`ConfigurationError`). The database is in WAL mode; writers take the write lock at the
    /// start of each transaction and wait up to `busyTimeout` for it, so concurrent imports
    /// serialize and readers are never blocked.
    public static func openOrCreate(path: String, n: Int, normalization: Normalization) throws
        -> DecontaminationIndex {
        guard ngramLengths.contains(n) else {
            throw ConfigurationError(file: path, key: "n", "\(n)-grams: n must be from \(ngramLengths.lowerBound) to \(ngramLengths.upperBound)")
        }
        if !FileManager.default.fileExists(atPath: path) { try createWhole(path: path, parameters: (n, normalization)) }
        let index = try DecontaminationIndex(path: path, creating: (n, normalization))
        try index.require(n: n, normalization: normalization)
        return index
    }

    private static let creation = NSLock()

    /// Makes a new index appear whole: built beside `path` under a temporary name (schema and
    /// parameters committed, the connection closed so nothing is left in its WAL), then linked
    /// into place. `link(2)` fails when another process made the index meanwhile; that one is used.
    /// So a reader never opens an index file that does not hold its parameters yet (two builds
    /// starting together on a new index: the second one's read-only check used to find the first
    /// one's file still empty and refuse it as "not a LongMix decontamination index").
    private static func createWhole(path: String, parameters: (Int, Normalization)) throws {
        creation.lock()  // the temporary's name is this process's: one creation at a time
        defer { creation.unlock() }
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            "." + url.lastPathComponent + TemporaryFiles.suffix("tmp")).path
        TemporaryFiles.removeStale(beside: path)
        let token = try TemporaryFiles.create(temporary) {}.1
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) }
            TemporaryFiles.unregister(token)
        }
        do { _ = try DecontaminationIndex(path: temporary, creating: parameters) }  // closed at the end of this scope
        guard !FileManager.default.fileExists(atPath: temporary + "-wal") else {
            throw ConfigurationError(file: path, "cannot create the decontamination index: SQLite left its new file's log open")
        }
        guard link(temporary, path) == 0 || errno == EEXIST else {
            throw ConfigurationError(file: path, "cannot create the decontamination index: \(String(cString: strerror(errno)))")
        }
    }

    /// Opens an existing index read-only (scans and builds), taking its parameters from the
    /// database. Refused with a message naming the file: a missing file, a database that is not
    /// a LongMix index, and an index that holds no n-grams (never filled, or its import failed),
    /// which would otherwise decontaminate nothing without a word (`requireNGrams: false` skips
    /// that check, for asking an index what it holds before importing into it).
    public static func open(path: String, requireNGrams: Bool = true) throws -> DecontaminationIndex {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError(file: path, "no decontamination index here; build one with `longmix decontam index`")
        }
        InputFiles.register([path])
        let index = try DecontaminationIndex(path: path, creating: nil)
        let empty = try requireNGrams && index.database.read({ db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM ngrams)") }) != true
        guard !empty else {
            throw ConfigurationError(file: path, "the decontamination index holds no n-grams (empty, or its import failed); "
                + "import test sets with `longmix decontam index` first")
        }
        return index
    }

    private init(path: String, creating parameters: (Int, Normalization)?) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.readonly = parameters == nil
        if parameters != nil {
            configuration.journalMode = .wal
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536")
            }
        }
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw ConfigurationError(file: path, "cannot open the decontamination index: \(error)")
        }
        let stored: [String: String]
        do {
            stored = parameters == nil ? try database.read(Self.readParameters) : try database.write { db in
                try Self.createSchema(db, parameters: parameters!)
                return try Self.readParameters(db)
            }
        } catch let error as DatabaseError {
            throw ConfigurationError(file: path, "not a readable LongMix decontamination index: \(error.message ?? "\(error)")")
        }
        guard let nText = stored["n"], let n = Int(nText), Self.ngramLengths.contains(n),
              let normalizationText = stored["normalization"],
              let normalization = Normalization(rawValue: normalizationText) else {
            throw ConfigurationError(file: path, "not a LongMix decontamination index (no valid n/normalization parameters)")
        }
        guard stored["hash"] == Self.hashScheme else {
            throw ConfigurationError(file: path,
                "index built with hash scheme '\(stored["hash"] ?? "?")', this LongMix uses '\(Self.hashScheme)'; rebuild it")
        }
        self.n = n
        self.normalization = normalization
    }

    private static func createSchema(_ db: Database, parameters: (Int, Normalization)) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS parameters(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS scenarios(
                id INTEGER PRIMARY KEY, name TEXT NOT NULL, split TEXT NOT NULL, spec TEXT,
                UNIQUE(name, split));
            CREATE TABLE IF NOT EXISTS instances(
                id INTEGER PRIMARY KEY, scenario INTEGER NOT NULL REFERENCES scenarios(id),
                instance_id TEXT NOT NULL, UNIQUE(scenario, instance_id));
            CREATE TABLE IF NOT EXISTS ngrams(
                hash INTEGER NOT NULL, instance INTEGER NOT NULL, part INTEGER NOT NULL,
                PRIMARY KEY(hash, instance, part)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS test_set_files(
                sha256 TEXT NOT NULL, splits TEXT NOT NULL, PRIMARY KEY(sha256, splits)) WITHOUT ROWID;
            """)
        let (n, normalization) = parameters
        for (key, value) in [("n", String(n)), ("normalization", normalization.rawValue), ("hash", hashScheme)] {
            try db.execute(sql: "INSERT OR IGNORE INTO parameters(key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    private static func readParameters(_ db: Database) throws -> [String: String] {
        guard try db.tableExists("parameters") else { return [:] }
        var stored: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM parameters") {
            stored[row["key"]] = row["value"]
        }
        return stored
    }

    /// Imports every file in `paths` (test-set exports) in one transaction: either all of them
    /// are in the index afterwards, each recorded in `test_set_files`, or, when one cannot be
    /// read, none is.
    @discardableResult
    public func importFiles(_ paths: [String], splits: Set<String>?) throws -> ImportCounts {
        let instances = try paths.flatMap { try TestSetReader.read(path: $0) }
        return try add(instances, splits: splits, files: try paths.map(Self.fileDigest))
    }

    /// The sha256 (hex) of a file's bytes, as `test_set_files` records it.
    public static func fileDigest(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError.file(path, reason: .unreadableFile, "cannot open the test set")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return SHA256.hex(hasher.finalize())
    }

    /// `splits` as `test_set_files` records it: `all`, or the names sorted and comma-separated.
    static func splitsKey(_ splits: Set<String>?) -> String { splits.map { $0.sorted().joined(separator: ",") } ?? "all" }

    /// The files of `paths` not recorded as imported whole with (at least) `splits`; read only.
    public func missingTestSets(_ paths: [String], splits: Set<String>?) throws -> [String] {
        let digests = try paths.map(Self.fileDigest)
        let recorded: [String: [String]] = try database.read { db in
            guard try db.tableExists("test_set_files") else { return [:] }
            var recorded: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT sha256, splits FROM test_set_files") {
                recorded[row["sha256"], default: []].append(row["splits"])
            }
            return recorded
        }
        return zip(paths, digests).filter { _, digest in
            !(recorded[digest] ?? []).contains { key in
                key == "all" || (splits.map { $0.isSubset(of: key.split(separator: ",").map(String.init)) } ?? false)
            }
        }.map(\.0)
    }

    /// Refuses (throws) unless the index was built with exactly these protocol parameters.
    public func require(n: Int, normalization: Normalization) throws {
        guard n == self.n, normalization == self.normalization else {
            throw ConfigurationError(file: path, key: "n/normalization",
                "index built for \(self.n)-grams with '\(self.normalization)' normalization; "
                + "refusing to use it for \(n)-grams with '\(normalization)' normalization "
                + "(build another index with those parameters)")
        }
    }

    /// Adds `instances` whose split is in `splits` (all splits when `splits` is nil), in one
    /// transaction. Idempotent: instances and n-gram rows already present are not added again.
    /// `files`: the sha256 of each file the instances were read from whole, recorded in the same
    /// transaction (`test_set_files`).
    @discardableResult
    public func add(_ instances: [TestInstance], splits: Set<String>?, files: [String] = []) throws -> ImportCounts {
        let hasher = NGramHasher(n: n, normalization: normalization)
        return try database.write { db in
            for digest in files {
                try db.execute(sql: "INSERT OR IGNORE INTO test_set_files(sha256, splits) VALUES (?, ?)",
                               arguments: [digest, Self.splitsKey(splits)])
            }
            var counts = ImportCounts()
            let insertScenario = try db.makeStatement(sql:
                "INSERT OR IGNORE INTO scenarios(name, split, spec) VALUES (?, ?, ?)")
            let selectScenario = try db.makeStatement(sql: "SELECT id FROM scenarios WHERE name = ? AND split = ?")
            let insertInstance = try db.makeStatement(sql:
                "INSERT OR IGNORE INTO instances(scenario, instance_id) VALUES (?, ?)")
            let selectInstance = try db.makeStatement(sql:
                "SELECT id FROM instances WHERE scenario = ? AND instance_id = ?")
            let insertNGram = try db.makeStatement(sql:
                "INSERT OR IGNORE INTO ngrams(hash, instance, part) VALUES (?, ?, ?)")
            var scenarioIDs: [String: Int64] = [:]
            var rows: [(Int64, Int64, Int)] = []
            for instance in instances {
                counts.instancesRead += 1
                if let splits, !splits.contains(instance.split) {
                    counts.instancesSkippedSplit += 1
                    continue
                }
                let scenarioKey = instance.scenario + "\u{0}" + instance.split
                let scenarioID: Int64
                if let known = scenarioIDs[scenarioKey] {
                    scenarioID = known
                } else {
                    try insertScenario.execute(arguments: [instance.scenario, instance.split, instance.scenarioSpec])
                    scenarioID = try Int64.fetchOne(selectScenario, arguments: [instance.scenario, instance.split])!
                    scenarioIDs[scenarioKey] = scenarioID
                }
                try insertInstance.execute(arguments: [scenarioID, instance.id])
                if db.changesCount > 0 { counts.instancesAdded += 1 }
                let instanceRow = try Int64.fetchOne(selectInstance, arguments: [scenarioID, instance.id])!
                let parts = [(InstancePart.input, instance.input)] + instance.references.map { (.reference, $0) }
                for (part, text) in parts where !text.isEmpty {
                    let ngrams = hasher.ngrams(of: Array(text.utf8))
                    if ngrams.isEmpty { counts.partsTooShort += 1 }
                    for ngram in ngrams {
                        rows.append((Int64(bitPattern: ngram.hash), instanceRow, part.rawValue))
                    }
                }
            }
            // Inserting in key order appends to the B-tree instead of touching random pages.
            rows.sort { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
            for row in rows {
                try insertNGram.execute(arguments: [row.0, row.1, row.2])
                counts.ngramsAdded += db.changesCount
            }
            return counts
        }
    }

    /// Every distinct n-gram hash of the index, as the scanner's in-memory set.
    public func loadNGramSet() throws -> NGramSet {
        let hashes: [UInt64] = try database.read { db in
            var hashes: [UInt64] = []
            let cursor = try Int64.fetchCursor(db, sql: "SELECT DISTINCT hash FROM ngrams")
            while let value = try cursor.next() { hashes.append(UInt64(bitPattern: value)) }
            return hashes
        }
        return NGramSet(hashes)
    }

    /// The test instances (and parts) each of `hashes` came from. Asked only about hits.
    public func provenance(of hashes: some Collection<UInt64>) throws -> [UInt64: [Provenance]] {
        try database.read { db in
            let statement = try db.makeStatement(sql: """
                SELECT s.name, s.split, i.instance_id, g.part FROM ngrams g
                JOIN instances i ON i.id = g.instance JOIN scenarios s ON s.id = i.scenario
                WHERE g.hash = ?
                """)
            var result: [UInt64: [Provenance]] = [:]
            for hash in Set(hashes) {
                let rows = try Row.fetchAll(statement, arguments: [Int64(bitPattern: hash)])
                result[hash] = rows.map { row in
                    Provenance(scenario: row[0], split: row[1], instanceID: row[2],
                               part: InstancePart(rawValue: row[3]) ?? .input)
                }.sorted()
            }
            return result
        }
    }

    /// Every indexed (scenario, split) with its number of instances.
    public func scenarios() throws -> [IndexedScenario] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.name, s.split, s.spec, COUNT(i.id) FROM scenarios s
                LEFT JOIN instances i ON i.scenario = s.id GROUP BY s.id ORDER BY s.name, s.split
                """).map { row in
                IndexedScenario(scenario: row[0], split: row[1], spec: row[2], instanceCount: row[3])
            }
        }
    }

    /// Rows in the n-gram table and distinct hashes.
    public func ngramCounts() throws -> (rows: Int, distinct: Int) {
        try database.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ngrams") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT hash) FROM ngrams") ?? 0)
        }
    }

    /// Folds the write-ahead log into the database file (so its size on disk is the index's).
    public func checkpoint() throws {
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }
}
