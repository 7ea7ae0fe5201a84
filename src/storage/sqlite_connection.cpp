/// The SQLite connection of "sqlite://PATH": connection settings, statements with $N parameters,
/// WAL, and transactions retried as a whole while another connection holds the write lock.
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <utility>

#include "gpbo/error.hpp"
#include "storage/sql_connection.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {
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

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(const std::string& path) : where_("SQLite database '" + path + "'") {
    // NOMUTEX: SqlStorage serializes the calls, so SQLite's per-call locking would be redundant.
    // No SQLITE_OPEN_URI: the path is always a plain file name.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError("cannot open SQLite database '" + path + "': " + message +
                         " (does its directory exist, and may this process write there?)");
    }
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
      sqlite3_close_v2(db_);
      throw;
    }
  }

  ~SqliteConnection() override {
    // Every statement is finalized by its owner, so closing cannot fail with SQLITE_BUSY; a
    // destructor has no way to report anything else.
    sqlite3_close_v2(db_);
  }

  const std::string& where() const override { return where_; }

  SqlRows exec(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* raw = nullptr;
    const int prepared = sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    if (prepared != SQLITE_OK) fail(prepared, "preparing \"" + sql + "\"");
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
    SqlRows out(where_);
    const int n = sqlite3_column_count(raw);
    for (int c = 0; c < n; ++c) out.columns.push_back(sqlite3_column_name(raw, c));
    for (;;) {
      const int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail(rc, "running \"" + sql + "\"");
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
            row[c] = std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(raw, c)));
          }
        }
      }
    }
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
};

}  // namespace

std::unique_ptr<SqlConnection> connect_sqlite(const std::string& path) {
  return std::make_unique<SqliteConnection>(path);
}

}  // namespace gpbo
