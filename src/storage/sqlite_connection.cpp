/// The SQLite connection of "sqlite://PATH": connection settings, statements with $N parameters
/// (each text prepared once and kept: SqliteStatementCache), WAL, and transactions retried as a
/// whole while another connection holds the write lock.
#include "storage/sqlite_connection.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <utility>

#include "gpbo/error.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {

// ---------------------------------------------------------------- SqliteStatementCache

SqliteStatementCache::Lease::Lease(Lease&& other) noexcept
    : stmt_(other.stmt_), leased_(other.leased_), status_(other.status_) {
  other.stmt_ = nullptr;
  other.leased_ = nullptr;
}

SqliteStatementCache::Lease::~Lease() {
  if (stmt_ == nullptr) return;
  // sqlite3_reset returns the statement's last error again, which exec has reported already.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (leased_ != nullptr) {
    *leased_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

SqliteStatementCache::SqliteStatementCache(sqlite3* db, std::size_t capacity)
    : db_(db), capacity_(capacity) {}

SqliteStatementCache::~SqliteStatementCache() { clear(); }

SqliteStatementCache::Lease SqliteStatementCache::acquire(const std::string& sql) {
  const auto found = index_.find(sql);
  if (found != index_.end() && !found->second->leased) {
    entries_.splice(entries_.begin(), entries_, found->second);
    Entry& e = entries_.front();
    e.leased = true;
    return Lease(e.stmt, &e.leased, SQLITE_OK);
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);  // NULL after a failure; finalizing NULL is a no-op
    return Lease(nullptr, nullptr, rc);
  }
  ++prepared_;
  // Lent already (a nested call): a statement of its own, as is one that holds nothing.
  if (found != index_.end() || stmt == nullptr) return Lease(stmt, nullptr, SQLITE_OK);
  if (entries_.size() >= capacity_) {
    // The least recently used statement that is not lent makes room; none: not cached.
    auto victim =
        std::find_if(entries_.rbegin(), entries_.rend(), [](const Entry& e) { return !e.leased; });
    if (victim == entries_.rend()) return Lease(stmt, nullptr, SQLITE_OK);
    const auto erased = std::next(victim).base();
    index_.erase(erased->sql);
    sqlite3_finalize(erased->stmt);
    entries_.erase(erased);
  }
  entries_.push_front(Entry{sql, stmt, true});
  Entry& e = entries_.front();
  index_.emplace(e.sql, entries_.begin());
  return Lease(e.stmt, &e.leased, SQLITE_OK);
}

void SqliteStatementCache::clear() {
  index_.clear();
  for (Entry& e : entries_) sqlite3_finalize(e.stmt);
  entries_.clear();
}

bool SqliteStatementCache::any_busy() const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [](const Entry& e) { return sqlite3_stmt_busy(e.stmt) != 0; });
}

std::vector<std::string> SqliteStatementCache::expanded_sql() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) {
    char* text = sqlite3_expanded_sql(e.stmt);
    out.emplace_back(text != nullptr ? text : "");
    sqlite3_free(text);
  }
  return out;
}

// ---------------------------------------------------------------- SqliteConnection

namespace {

/// How long a transaction keeps retrying a busy database in total before it gives up.
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

/// Opens (or creates) the file; StorageError naming it when SQLite cannot.
sqlite3* open_database(const std::string& path) {
  // NOMUTEX: SqlStorage serializes the calls, so SQLite's per-call locking would be redundant.
  // No SQLITE_OPEN_URI: the path is always a plain file name.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw StorageError("cannot open SQLite database '" + path + "': " + message +
                       " (does its directory exist, and may this process write there?)");
  }
  return db;
}

class Connection final : public SqliteConnection {
 public:
  explicit Connection(const std::string& path)
      : where_("SQLite database '" + path + "'"), db_(open_database(path)), statements_(db_) {
    try {
      const int ext = sqlite3_extended_result_codes(db_, 1);
      if (ext != SQLITE_OK) fail(ext, "enabling extended result codes");
      // foreign_keys makes ON DELETE CASCADE work (it is off by default, per connection).
      // synchronous=FULL: in WAL mode NORMAL already survives a process crash, but may lose the
      // last commits on power loss or an OS crash; a committed tell must never be lost, and
      // FULL costs one fsync of the WAL per commit, small next to a model fit.
      // Neither pragma writes to the file (a bad file is left untouched), but both read the
      // schema, so they too can find the file locked by a connection that is creating it.
      with_retry("configuring the connection", [&] {
        exec_script("PRAGMA foreign_keys = ON");
        exec_script("PRAGMA synchronous = FULL");
      });
    } catch (...) {
      statements_.clear();
      sqlite3_close_v2(db_);
      throw;
    }
  }

  ~Connection() override {
    // The cached statements are finalized first and exec's leases never outlive a call, so
    // every statement is finalized and closing cannot fail with SQLITE_BUSY; a destructor has
    // no way to report anything else.
    statements_.clear();
    sqlite3_close_v2(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& where() const override { return where_; }

  const SqliteStatementCache& statements() const override { return statements_; }

  SqlRows exec(const std::string& sql, const std::vector<SqlValue>& params) override {
    // The lease resets the statement and clears its bindings however this returns.
    const SqliteStatementCache::Lease stmt = statements_.acquire(sql);
    if (stmt.status() != SQLITE_OK) fail(stmt.status(), "preparing \"" + sql + "\"");
    sqlite3_stmt* raw = stmt.get();
    if (raw == nullptr) throw StorageError(where_ + ": \"" + sql + "\" holds no statement");
    if (sqlite3_bind_parameter_count(raw) != static_cast<int>(params.size())) {
      throw StorageError(where_ + ": \"" + sql + "\" has " +
                         std::to_string(sqlite3_bind_parameter_count(raw)) + " parameters, given " +
                         std::to_string(params.size()));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      // "$N" is a named parameter to SQLite: bind each by its name, whatever its position.
      const std::string name = "$" + std::to_string(i + 1);
      const int index = sqlite3_bind_parameter_index(raw, name.c_str());
      if (index == 0) throw StorageError(where_ + ": \"" + sql + "\" does not use " + name);
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(raw, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(raw, index, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(raw, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(raw, index);
      }
      if (rc != SQLITE_OK) fail(rc, "binding " + name);
    }
    int rc = sqlite3_step(raw);
    // The columns are read after the first step: a cached statement whose table another
    // connection has altered since is prepared again inside sqlite3_step (SQLITE_SCHEMA), and
    // may have gained columns.
    SqlRows out(where_);
    const int n = sqlite3_column_count(raw);
    for (int c = 0; c < n; ++c) out.columns.push_back(sqlite3_column_name(raw, c));
    for (; rc == SQLITE_ROW; rc = sqlite3_step(raw)) {
      std::vector<SqlValue>& row = out.rows.emplace_back(static_cast<std::size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(raw, c)) {
          case SQLITE_INTEGER:
            row[c] = static_cast<std::int64_t>(sqlite3_column_int64(raw, c));
            break;
          case SQLITE_FLOAT:
            row[c] = sqlite3_column_double(raw, c);
            break;
          case SQLITE_NULL:
            break;
          default: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
            // NULL: an empty BLOB, or out of memory converting the value, which is thrown
            // mid-way through the rows (the lease resets the statement all the same).
            if (p == nullptr && sqlite3_errcode(db_) == SQLITE_NOMEM) {
              fail(SQLITE_NOMEM, "reading \"" + sql + "\"");
            }
            row[c] = p != nullptr
                         ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(raw, c)))
                         : std::string();
          }
        }
      }
    }
    if (rc != SQLITE_DONE) fail(rc, "running \"" + sql + "\"");
    out.changed = sqlite3_changes(db_);
    return out;
  }

  void exec_script(const std::string& sql) override {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(rc, "running \"" + sql + "\"");
  }

  void transaction(const std::string& what, bool writable,
                   const std::function<void()>& body) override {
    with_retry(what, [&] {
      // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
      // writes can hit SQLITE_BUSY mid-way (its snapshot went stale), which no wait resolves.
      // A plain BEGIN for reads gives a consistent snapshot from the first SELECT on.
      exec_script(writable ? "BEGIN IMMEDIATE" : "BEGIN");
      body();
      exec_script("COMMIT");
    });
  }

  const char* schema_v1() const override { return kSchemaV1; }

  std::vector<std::string> tables() override {
    const SqlRows r = exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", {});
    std::vector<std::string> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(r.text(i, 0));
    return out;
  }

  std::string not_ours(const std::string&) const override {
    return where_ + " is not a gpbo database (it has tables but no schema_version table)";
  }

  void on_schema_checked() override {
    // WAL lets readers work while a writer commits. The mode is stored in the file, so it is
    // set once, by whoever gets here first; it cannot change inside a transaction, hence here.
    with_retry("enabling WAL", [&] {
      if (exec("PRAGMA journal_mode", {}).text(0, 0) == "wal") return;
      // Where WAL is unavailable SQLite keeps the old mode and says so in the returned row;
      // transactions stay correct, only less concurrent, so that is not an error.
      exec("PRAGMA journal_mode = WAL", {});
    });
  }

  const char* lock_row() const override { return ""; }  // BEGIN IMMEDIATE holds the database
  const char* name_order() const override { return "name"; }

 private:
  [[noreturn]] void fail(int rc, const std::string& what) const {
    const std::string message =
        where_ + ": " + what + ": " + (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    if (is_busy(rc)) throw BusyError(message);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
      throw Conflict(message);
    }
    throw StorageError(message);
  }

  void rollback_quietly() {
    // After some errors (e.g. SQLITE_FULL, or a failed COMMIT) SQLite has already rolled back;
    // autocommit mode tells whether a transaction is still open.
    if (db_ != nullptr && sqlite3_get_autocommit(db_) == 0) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  /// Runs `attempt` until it gets through without SQLITE_BUSY/SQLITE_LOCKED, rolling back any
  /// open transaction and sleeping a randomized, growing backoff between tries; after about
  /// kRetrySeconds throws StorageError ("database is locked"). Other errors roll back and
  /// propagate.
  void with_retry(const std::string& what, const std::function<void()>& attempt) {
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
          throw StorageError(where_ + ": database is locked: gave up " + what + " after " +
                             std::to_string(static_cast<int>(kRetrySeconds)) + " s of retries (" +
                             e.what() + ")");
        }
        clock.backoff();
      } catch (...) {
        rollback_quietly();
        throw;
      }
    }
  }

  std::string where_;
  sqlite3* db_ = nullptr;
  /// After db_: prepared on it.
  SqliteStatementCache statements_;
};

}  // namespace

std::unique_ptr<SqlConnection> connect_sqlite(const std::string& path) {
  return std::make_unique<Connection>(path);
}

}  // namespace gpbo
