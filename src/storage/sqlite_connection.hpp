#pragma once
// The SQLite connection's own parts (sqlite_connection.cpp): its cache of prepared statements,
// and the interface through which tests see it. The store itself knows only SqlConnection.

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/sql_connection.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace gpbo {

/// Prepared statements of one SQLite connection, kept for reuse and keyed by their SQL text:
/// the store runs the same few statements for every trial, ask, tell and log entry, and
/// preparing one costs more than running it. Bounded: at most capacity() statements, the least
/// recently used finalized to make room. Not thread-safe (like the connection that owns it).
class SqliteStatementCache {
 public:
  /// The store runs about 30 distinct statements in all (sql_storage.cpp: a dozen for every ask,
  /// tell and import, the rest when a file is created or upgraded), so 64 holds every one with
  /// room for more and steady use never evicts; a prepared statement takes 2 to 8 KiB
  /// (SQLITE_STMTSTATUS_MEMUSED of the store's), so a full cache holds about half a MiB, and a
  /// caller that built texts with values in them could not grow it further.
  static constexpr std::size_t kDefaultCapacity = 64;

  /// A statement lent by acquire(). When the lease ends (returns or throws) the statement is
  /// reset and its bindings cleared: a statement left mid-way would keep its read transaction
  /// (and its lock, where the file is not in WAL mode, which a writer elsewhere waits for) and
  /// the values bound to it. Move-only.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    /// The statement; nullptr when preparing failed (status()) or `sql` holds no statement
    /// (only whitespace or comments).
    sqlite3_stmt* get() const { return stmt_; }
    /// SQLITE_OK, or the result code of the failed sqlite3_prepare_v2 (sqlite3_errmsg of the
    /// connection has its message).
    int status() const { return status_; }

   private:
    friend class SqliteStatementCache;
    Lease(sqlite3_stmt* stmt, bool* leased, int status)
        : stmt_(stmt), leased_(leased), status_(status) {}

    sqlite3_stmt* stmt_ = nullptr;
    /// The cache entry's flag, or nullptr for a statement the lease owns (not cached).
    bool* leased_ = nullptr;
    int status_ = 0;
  };

  /// `db` must outlive the cache, or rather clear() must run before it is closed.
  explicit SqliteStatementCache(sqlite3* db, std::size_t capacity = kDefaultCapacity);
  /// Finalizes every cached statement (clear()).
  ~SqliteStatementCache();
  SqliteStatementCache(const SqliteStatementCache&) = delete;
  SqliteStatementCache& operator=(const SqliteStatementCache&) = delete;

  /// The statement of `sql`: the cached one, or prepared now (sqlite3_prepare_v2) and cached,
  /// finalizing the least recently used one when the cache is full. A statement that fails to
  /// prepare is not cached. Where `sql`'s statement is already lent (a nested call), or every
  /// cached one is, the lease gets a statement of its own, finalized when it ends.
  Lease acquire(const std::string& sql);
  /// Finalizes every cached statement; none may be lent. After it, closing the connection
  /// cannot find a statement of this cache unfinalized.
  void clear();

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  /// How many statements acquire() has prepared so far (SQLite's own re-preparing after a schema
  /// change, inside sqlite3_step, is not counted).
  std::int64_t prepared() const { return prepared_; }

  // ---- for tests and diagnostics

  /// Whether any cached statement is mid-way (stepped and not reset: sqlite3_stmt_busy).
  bool any_busy() const;
  /// Each cached statement's text with the values bound to it now (sqlite3_expanded_sql: NULL
  /// where none is bound), the most recently used first.
  std::vector<std::string> expanded_sql() const;

 private:
  struct Entry {
    std::string sql;
    sqlite3_stmt* stmt = nullptr;
    bool leased = false;
  };

  sqlite3* db_;
  std::size_t capacity_;
  std::int64_t prepared_ = 0;
  /// Most recently used first; list nodes stay put, so index_'s keys (views of Entry::sql) and
  /// the leases' flags stay valid until the entry is erased.
  std::list<Entry> entries_;
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

/// The connection connect_sqlite returns, as tests reach it (`dynamic_cast`): what SQLite adds
/// to SqlConnection.
class SqliteConnection : public SqlConnection {
 public:
  /// The prepared statements exec() keeps; every exec leaves them reset.
  virtual const SqliteStatementCache& statements() const = 0;
};

}  // namespace gpbo
