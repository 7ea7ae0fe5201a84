/// The SQLite store: schema and its upgrade path, connection settings, and transactions retried
/// as a whole while another connection holds the write lock.
#include "storage/sqlite_storage.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "gpbo/error.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {
namespace {

using storage_detail::check_json;
using storage_detail::check_log_entry;
using storage_detail::check_trial;
using Lock = storage_detail::ConnectionMutex::Lock;

/// How long write() keeps retrying a busy database in total before it gives up.
constexpr double kRetrySeconds = 60.0;
/// SQLite's own busy handler waits up to this long (per statement) before returning
/// SQLITE_BUSY; the retry loop around whole transactions covers what it cannot (a busy COMMIT,
/// a lock held longer than this).
constexpr int kBusyTimeoutMs = 10000;
/// Upper bound of one randomized backoff sleep between retries.
constexpr int kMaxBackoffMs = 100;

/// SQLITE_BUSY or SQLITE_LOCKED: another connection holds a lock; the transaction is retried.
class BusyError : public StorageError {
 public:
  using StorageError::StorageError;
};

bool is_busy(int rc) {
  const int primary = rc & 0xff;  // extended result codes are on
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

/// A connection and the path it was opened with, for error messages.
struct Db {
  sqlite3* handle;
  const std::string& path;
};

[[noreturn]] void fail(const Db& db, int rc, const std::string& what) {
  const std::string message =
      "SQLite database '" + db.path + "': " + what + ": " +
      (db.handle != nullptr ? sqlite3_errmsg(db.handle) : sqlite3_errstr(rc));
  if (is_busy(rc)) throw BusyError(message);
  throw StorageError(message);
}

/// A prepared statement, finalized when it goes out of scope.
class Statement {
 public:
  Statement(const Db& db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db.handle, sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt_);
      stmt_ = nullptr;
      fail(db, rc, std::string("preparing \"") + sql + "\"");
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind_int(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind_real(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind_real(int i, const std::optional<double>& v) {
    return v ? bind_real(i, *v) : check(sqlite3_bind_null(stmt_, i));
  }
  Statement& bind_text(int i, const std::string& v) {
    return check(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }

  /// Steps once: true when a row is ready, false when the statement is done.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, std::string("running \"") + sqlite3_sql(stmt_) + "\"");
  }
  /// Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }

  bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  std::int64_t integer(int c) const { return sqlite3_column_int64(stmt_, c); }
  double real(int c) const { return sqlite3_column_double(stmt_, c); }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p != nullptr ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)))
                        : std::string();
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) fail(db_, rc, "binding a parameter");
    return *this;
  }

  Db db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(const Db& db, const char* sql) {
  const int rc = sqlite3_exec(db.handle, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, std::string("running \"") + sql + "\"");
}

// ---------------------------------------------------------------- schema

/// Version 1. Times are REAL seconds since the Unix epoch; JSON columns hold text.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS studies (
  id INTEGER PRIMARY KEY,
  name TEXT UNIQUE NOT NULL,
  space_json TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  options_json TEXT NOT NULL,
  state_json TEXT NOT NULL,
  created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
  study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  params_json TEXT NOT NULL,
  state TEXT NOT NULL,
  value REAL NULL,
  worker_id TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at REAL NOT NULL,
  finished_at REAL NOT NULL,
  heartbeat_at REAL NOT NULL,
  lease_deadline REAL NOT NULL,
  PRIMARY KEY (study_id, number)
);
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  time REAL NOT NULL,
  event TEXT NOT NULL,
  trial_id INTEGER NOT NULL,
  worker_id TEXT NOT NULL,
  detail_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_by_study ON log (study_id, id);
)sql";

/// Upgrades the schema from version `from` to `from + 1`, inside the caller's BEGIN IMMEDIATE
/// transaction (so a crash or a failure leaves the old version intact). Version 0 is a new,
/// empty database. To change the schema: bump SqliteStorage::kSchemaVersion and add the step
/// from the previous version here (e.g. `case 1: exec(db, "ALTER TABLE trials ADD ..."); return;`),
/// never editing an existing step, which old databases have already run.
void migrate_step(const Db& db, int from) {
  switch (from) {
    case 0:
      exec(db, kSchemaV1);
      return;
    default:
      break;
  }
  throw StorageError("SQLite database '" + db.path + "': no upgrade from schema version " +
                     std::to_string(from));
}

/// The database's schema version, 0 for a new, empty database.
int read_version(const Db& db) {
  Statement tables(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
  bool has_version = false;
  bool has_others = false;
  while (tables.step()) {
    const std::string name = tables.text(0);
    if (name == "schema_version") {
      has_version = true;
    } else if (name.compare(0, 7, "sqlite_") != 0) {
      has_others = true;
    }
  }
  if (!has_version) {
    // The schema is created in one transaction, so tables without the version table are not
    // a half-created gpbo database but someone else's: refuse to add tables to it.
    if (has_others) {
      throw StorageError("SQLite database '" + db.path +
                         "' is not a gpbo database (it has tables but no schema_version table)");
    }
    return 0;
  }
  Statement version(db, "SELECT MAX(version) FROM schema_version");
  if (!version.step() || version.is_null(0)) {
    throw StorageError("SQLite database '" + db.path + "': the schema_version table is empty");
  }
  return static_cast<int>(version.integer(0));
}

[[noreturn]] void newer_version(const Db& db, int version) {
  throw StorageError("SQLite database '" + db.path + "': database schema version " +
                     std::to_string(version) + " is newer than this gpbo supports (" +
                     std::to_string(SqliteStorage::kSchemaVersion) + ")");
}

// ---------------------------------------------------------------- rows

constexpr const char* kStudyColumns =
    "id, name, space_json, direction, options_json, state_json, created_at";

std::pair<std::int64_t, StudyInfo> study_row(const Statement& s) {
  StudyInfo info;
  info.name = s.text(1);
  info.space_json = s.text(2);
  try {
    info.direction = parse_direction(s.text(3));
  } catch (const InvalidArgument& e) {
    throw StorageError("study '" + info.name + "': stored " + e.what());
  }
  info.options_json = s.text(4);
  info.state_json = s.text(5);
  info.created_at = s.real(6);
  return {s.integer(0), std::move(info)};
}

/// The study's row id and info, or nothing if there is no such study.
std::optional<std::pair<std::int64_t, StudyInfo>> find_study(const Db& db,
                                                             const std::string& name) {
  const std::string sql = std::string("SELECT ") + kStudyColumns + " FROM studies WHERE name = ?1";
  Statement s(db, sql.c_str());
  s.bind_text(1, name);
  if (!s.step()) return std::nullopt;
  return study_row(s);
}

std::pair<std::int64_t, StudyInfo> require_study(const Db& db, const std::string& name) {
  auto found = find_study(db, name);
  if (!found) throw NotFound("study '" + name + "' does not exist");
  return std::move(*found);
}

void insert_log(const Db& db, std::int64_t study_id, const LogEntry& entry) {
  Statement s(db,
              "INSERT INTO log (study_id, time, event, trial_id, worker_id, detail_json) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  s.bind_int(1, study_id)
      .bind_real(2, entry.time)
      .bind_text(3, entry.event)
      .bind_int(4, entry.trial_id)
      .bind_text(5, entry.worker_id)
      .bind_text(6, entry.detail_json)
      .run();
}

/// A transaction on one study; the surrounding BEGIN/COMMIT belongs to SqliteStorage.
class SqliteTransaction final : public StudyTransaction {
 public:
  SqliteTransaction(const Db& db, std::int64_t study_id, StudyInfo info, bool writable)
      : db_(db), study_id_(study_id), info_(std::move(info)), writable_(writable) {}

  const StudyInfo& study() const override { return info_; }

  std::vector<StoredTrial> trials() override { return select_trials(-1); }

  StoredTrial trial(std::int64_t id) override {
    // A negative id would select every trial.
    return storage_detail::single_trial(id >= 0 ? select_trials(id) : std::vector<StoredTrial>{},
                                        info_.name, id);
  }

  std::int64_t trial_count() override {
    Statement s(db_, "SELECT COUNT(*) FROM trials WHERE study_id = ?1");
    s.bind_int(1, study_id_);
    return s.step() ? s.integer(0) : 0;
  }

  void insert_trial(const StoredTrial& trial) override {
    require_writable("insert_trial");
    const std::string params = check_trial(trial, space(), info_.name);
    const std::int64_t next = trial_count();
    if (trial.id != next) {
      throw Conflict("study '" + info_.name + "': cannot insert trial " + std::to_string(trial.id) +
                     ", the next free number is " + std::to_string(next));
    }
    Statement s(db_,
                "INSERT INTO trials (study_id, number, params_json, state, value, worker_id, "
                "source, created_at, finished_at, heartbeat_at, lease_deadline) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    bind_trial(s, trial, params).run();
  }

  void update_trial(const StoredTrial& trial) override {
    require_writable("update_trial");
    const std::string params = check_trial(trial, space(), info_.name);
    Statement s(db_,
                "UPDATE trials SET params_json = ?3, state = ?4, value = ?5, worker_id = ?6, "
                "source = ?7, created_at = ?8, finished_at = ?9, heartbeat_at = ?10, "
                "lease_deadline = ?11 WHERE study_id = ?1 AND number = ?2");
    bind_trial(s, trial, params).run();
    if (sqlite3_changes(db_.handle) == 0) throw NotFound(where(trial.id) + " does not exist");
  }

  void set_state_json(const std::string& state_json) override {
    require_writable("set_state_json");
    check_json(state_json, "study '" + info_.name + "': state_json");
    Statement s(db_, "UPDATE studies SET state_json = ?2 WHERE id = ?1");
    s.bind_int(1, study_id_).bind_text(2, state_json).run();
    info_.state_json = state_json;
  }

  void append_log(const LogEntry& entry) override {
    require_writable("append_log");
    check_log_entry(entry, info_.name);
    insert_log(db_, study_id_, entry);
  }

 private:
  std::string where(std::int64_t id) const {
    return "study '" + info_.name + "', trial " + std::to_string(id);
  }

  void require_writable(const char* op) const {
    if (!writable_) {
      throw StorageError("study '" + info_.name + "': " + op + " in a read-only transaction");
    }
  }

  /// Every trial (id < 0) or trial `id` alone, ordered by id.
  std::vector<StoredTrial> select_trials(std::int64_t id) {
    Statement s(db_, id < 0 ? "SELECT number, params_json, state, value, worker_id, source, "
                              "created_at, finished_at, heartbeat_at, lease_deadline FROM trials "
                              "WHERE study_id = ?1 ORDER BY number"
                            : "SELECT number, params_json, state, value, worker_id, source, "
                              "created_at, finished_at, heartbeat_at, lease_deadline FROM trials "
                              "WHERE study_id = ?1 AND number = ?2");
    s.bind_int(1, study_id_);
    if (id >= 0) s.bind_int(2, id);
    std::vector<StoredTrial> out;
    while (s.step()) {
      StoredTrial t;
      t.id = s.integer(0);
      try {
        t.params = storage_detail::params_from_json(s.text(1), space());
        t.state = parse_trial_state(s.text(2));
      } catch (const Error& e) {
        throw StorageError(where(t.id) + ": " + e.what());
      }
      if (!s.is_null(3)) t.value = s.real(3);
      t.worker_id = s.text(4);
      t.source = s.text(5);
      t.created_at = s.real(6);
      t.finished_at = s.real(7);
      t.heartbeat_at = s.real(8);
      t.lease_deadline = s.real(9);
      out.push_back(std::move(t));
    }
    return out;
  }

  // Parsed on first use: a transaction that only logs or sets state never needs it.
  const Space& space() {
    if (!space_) space_ = storage_detail::stored_space(info_);
    return *space_;
  }

  Statement& bind_trial(Statement& s, const StoredTrial& t, const std::string& params) const {
    return s.bind_int(1, study_id_)
        .bind_int(2, t.id)
        .bind_text(3, params)
        .bind_text(4, to_string(t.state))
        .bind_real(5, t.value)
        .bind_text(6, t.worker_id)
        .bind_text(7, t.source)
        .bind_real(8, t.created_at)
        .bind_real(9, t.finished_at)
        .bind_real(10, t.heartbeat_at)
        .bind_real(11, t.lease_deadline);
  }

  Db db_;
  std::int64_t study_id_;
  StudyInfo info_;
  bool writable_;
  std::optional<Space> space_;
};

}  // namespace

// ---------------------------------------------------------------- SqliteStorage

SqliteStorage::SqliteStorage(const std::string& path) : path_(path) {
  // NOMUTEX: this object serializes its own calls (mutex_), so SQLite's per-call locking would
  // be redundant. No SQLITE_OPEN_URI: the path is always a plain file name.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError("cannot open SQLite database '" + path_ + "': " + message +
                       " (does its directory exist, and may this process write there?)");
  }
  try {
    const Db db{db_, path_};
    const int ext = sqlite3_extended_result_codes(db_, 1);
    if (ext != SQLITE_OK) fail(db, ext, "enabling extended result codes");
    // foreign_keys makes ON DELETE CASCADE work (it is off by default, per connection).
    // synchronous=FULL: in WAL mode NORMAL already survives a process crash, but may lose the
    // last commits on power loss or an OS crash; a committed tell must never be lost, and
    // FULL costs one fsync of the WAL per commit, small next to a model fit.
    // Neither pragma writes to the file (a bad file is left untouched), but both read the
    // schema, so they too can find the file locked by a connection that is creating it.
    with_retry("configuring the connection", [&] {
      exec(db, "PRAGMA foreign_keys = ON");
      exec(db, "PRAGMA synchronous = FULL");
    });
    initialize();
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteStorage::~SqliteStorage() {
  // Every statement is finalized by its owner, so closing cannot fail with SQLITE_BUSY; a
  // destructor has no way to report anything else.
  sqlite3_close_v2(db_);
}

void SqliteStorage::initialize() {
  const Db db{db_, path_};
  // First read only (a deferred transaction): a corrupt file, someone else's database or a
  // newer schema is reported without a single byte written.
  int version = 0;
  with_retry("reading the schema version", [&] {
    exec(db, "BEGIN");
    version = read_version(db);
    exec(db, "COMMIT");
  });
  if (version > kSchemaVersion) newer_version(db, version);

  // WAL lets readers work while a writer commits. The mode is stored in the file, so it is set
  // once, by whoever gets here first; it cannot change inside a transaction, hence here.
  with_retry("enabling WAL", [&] {
    {
      // Scoped: an unfinished statement holds a read transaction, which blocks the switch.
      Statement mode(db, "PRAGMA journal_mode");
      if (mode.step() && mode.text(0) == "wal") return;
    }
    Statement wal(db, "PRAGMA journal_mode = WAL");
    // Where WAL is unavailable SQLite keeps the old mode and says so in the returned row;
    // transactions stay correct, only less concurrent, so that is not an error.
    wal.run();
  });

  if (version == kSchemaVersion) return;
  // Create or upgrade in one IMMEDIATE transaction. Many processes may race here on a new file:
  // the write lock lets one create everything while the others wait, and they then re-read the
  // version and find nothing to do.
  with_retry("creating the schema", [&] {
    exec(db, "BEGIN IMMEDIATE");
    int current = read_version(db);
    if (current > kSchemaVersion) newer_version(db, current);
    if (current < kSchemaVersion) {
      for (; current < kSchemaVersion; ++current) migrate_step(db, current);
      exec(db, "DELETE FROM schema_version");
      Statement set(db, "INSERT INTO schema_version (version) VALUES (?1)");
      set.bind_int(1, kSchemaVersion).run();
    }
    exec(db, "COMMIT");
  });
}

void SqliteStorage::rollback_quietly() {
  // After some errors (e.g. SQLITE_FULL, or a failed COMMIT) SQLite has already rolled back;
  // autocommit mode tells whether a transaction is still open.
  if (db_ != nullptr && sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void SqliteStorage::with_retry(const std::string& what, const std::function<void()>& attempt) {
  storage_detail::RetryClock clock(kRetrySeconds, kMaxBackoffMs);
  for (;;) {
    // The busy handler's own waiting never runs past the overall budget.
    const auto left = static_cast<long long>(clock.left().count());
    sqlite3_busy_timeout(db_, static_cast<int>(std::clamp<long long>(left, 0, kBusyTimeoutMs)));
    try {
      attempt();
      return;
    } catch (const BusyError& e) {
      rollback_quietly();
      if (clock.expired()) {
        throw StorageError("SQLite database '" + path_ + "': database is locked: gave up " + what +
                           " after " + std::to_string(static_cast<int>(kRetrySeconds)) +
                           " s of retries (" + e.what() + ")");
      }
      clock.backoff();
    } catch (...) {
      rollback_quietly();
      throw;
    }
  }
}

void SqliteStorage::transaction(const std::string& study, bool writable,
                                const std::function<void(StudyTransaction&)>& fn) {
  Lock lock(mutex_, "SQLite database '" + path_ + "'");
  const Db db{db_, path_};
  const std::string what = (writable ? "writing study '" : "reading study '") + study + "'";
  with_retry(what, [&] {
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    // writes can hit SQLITE_BUSY mid-way (its snapshot went stale), which no wait resolves.
    // A plain BEGIN for reads gives a consistent snapshot from the first SELECT on.
    exec(db, writable ? "BEGIN IMMEDIATE" : "BEGIN");
    auto [id, info] = require_study(db, study);
    SqliteTransaction tx(db, id, std::move(info), writable);
    fn(tx);
    exec(db, "COMMIT");
  });
}

void SqliteStorage::write(const std::string& study,
                          const std::function<void(StudyTransaction&)>& fn) {
  transaction(study, /*writable=*/true, fn);
}

void SqliteStorage::read(const std::string& study,
                         const std::function<void(StudyTransaction&)>& fn) {
  transaction(study, /*writable=*/false, fn);
}

void SqliteStorage::create_study(const StudyInfo& info) {
  const StudyInfo stored = storage_detail::prepare_new_study(info);
  const LogEntry entry = storage_detail::create_log_entry(stored);
  Lock lock(mutex_, "SQLite database '" + path_ + "'");
  const Db db{db_, path_};
  with_retry("creating study '" + info.name + "'", [&] {
    exec(db, "BEGIN IMMEDIATE");
    if (find_study(db, stored.name)) throw Conflict("study '" + stored.name + "' already exists");
    Statement s(db,
                "INSERT INTO studies (name, space_json, direction, options_json, state_json, "
                "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    s.bind_text(1, stored.name)
        .bind_text(2, stored.space_json)
        .bind_text(3, to_string(stored.direction))
        .bind_text(4, stored.options_json)
        .bind_text(5, stored.state_json)
        .bind_real(6, stored.created_at)
        .run();
    insert_log(db, sqlite3_last_insert_rowid(db_), entry);
    exec(db, "COMMIT");
  });
}

std::vector<StudyInfo> SqliteStorage::list_studies() {
  Lock lock(mutex_, "SQLite database '" + path_ + "'");
  const Db db{db_, path_};
  std::vector<StudyInfo> out;
  with_retry("listing studies", [&] {
    out.clear();
    const std::string sql = std::string("SELECT ") + kStudyColumns + " FROM studies ORDER BY name";
    Statement s(db, sql.c_str());
    while (s.step()) out.push_back(study_row(s).second);
  });
  return out;
}

void SqliteStorage::delete_study(const std::string& name) {
  Lock lock(mutex_, "SQLite database '" + path_ + "'");
  const Db db{db_, path_};
  with_retry("deleting study '" + name + "'", [&] {
    exec(db, "BEGIN IMMEDIATE");
    const std::int64_t id = require_study(db, name).first;
    // Explicit deletes rather than relying on ON DELETE CASCADE alone: a connection opened
    // by another tool may have foreign_keys off.
    for (const char* sql :
         {"DELETE FROM log WHERE study_id = ?1", "DELETE FROM trials WHERE study_id = ?1",
          "DELETE FROM studies WHERE id = ?1"}) {
      Statement s(db, sql);
      s.bind_int(1, id).run();
    }
    exec(db, "COMMIT");
  });
}

std::vector<LogEntry> SqliteStorage::log(const std::string& study) {
  Lock lock(mutex_, "SQLite database '" + path_ + "'");
  const Db db{db_, path_};
  std::vector<LogEntry> out;
  with_retry("reading the log of study '" + study + "'", [&] {
    out.clear();
    exec(db, "BEGIN");
    const std::int64_t id = require_study(db, study).first;
    Statement s(db,
                "SELECT time, event, trial_id, worker_id, detail_json FROM log "
                "WHERE study_id = ?1 ORDER BY id");
    s.bind_int(1, id);
    while (s.step()) {
      LogEntry e;
      e.time = s.real(0);
      e.event = s.text(1);
      e.trial_id = s.integer(2);
      e.worker_id = s.text(3);
      e.detail_json = s.text(4);
      out.push_back(std::move(e));
    }
    exec(db, "COMMIT");
  });
  return out;
}

}  // namespace gpbo
