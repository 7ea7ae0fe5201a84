#pragma once
// What a SQL store needs from its database: one connection that runs statements with
// parameters $1, $2, ... and transactions retried as the database requires, and the few words of
// its dialect. SqlStorage (sql_storage.hpp) holds everything else, once for SQLite and
// PostgreSQL alike.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace gpbo {

/// A statement parameter or a column value: NULL, an integer, a double or text.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

/// The rows a statement returned, read whole, and how many rows it changed.
class SqlRows {
 public:
  /// `where` names the store in messages.
  explicit SqlRows(std::string where = "") : where_(std::move(where)) {}

  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
  /// Rows changed by an INSERT, UPDATE or DELETE.
  std::int64_t changed = 0;

  int size() const { return static_cast<int>(rows.size()); }
  bool is_null(int row, int col) const;
  /// The value as an integer, a double or text (a driver may return any of them as text).
  /// StorageError naming the column when it is NULL or not of that kind.
  std::int64_t integer(int row, int col) const;
  double real(int row, int col) const;
  std::string text(int row, int col) const;

 private:
  [[noreturn]] void bad(int row, int col, const char* what) const;
  std::string where_;
};

/// One database connection and its dialect. Not thread-safe: SqlStorage serializes its calls.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  /// Names the store in messages: "SQLite database 'PATH'", "PostgreSQL database 'URL'" (with
  /// any password masked).
  virtual const std::string& where() const = 0;

  /// Runs one statement whose parameters are $1 .. $n (every one used). Throws Conflict for a
  /// unique-key violation, InvalidArgument for a value the database refuses, StorageError
  /// otherwise; a transient failure throws the driver's own StorageError, which transaction()
  /// retries.
  virtual SqlRows exec(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  /// Runs statements without parameters in one call (the schema).
  virtual void exec_script(const std::string& sql) = 0;

  /// Runs `body` in one transaction, committing when it returns: `writable` takes what writes
  /// need (SQLite: the write lock up front; PostgreSQL: READ COMMITTED with a lock timeout),
  /// else a consistent read snapshot. Retries the whole transaction, `body` included, on the
  /// database's transient failures (a busy database, a serialization failure, a deadlock, a
  /// lost connection) for about a minute, then StorageError; rolls back and rethrows any other
  /// exception. `what` names the transaction in messages.
  virtual void transaction(const std::string& what, bool writable,
                           const std::function<void()>& body) = 0;

  // ---- the dialect

  /// The schema of version 1 (docs in src/storage/README.md), one script.
  virtual const char* schema_v1() const = 0;
  /// The tables of the connection's schema that decide whether it is gpbo's: every table of a
  /// SQLite file, gpbo's four table names in PostgreSQL's current schema.
  virtual std::vector<std::string> tables() = 0;
  /// The message for a schema that holds `table` but no schema_version table.
  virtual std::string not_ours(const std::string& table) const = 0;
  /// Holds other processes off the schema until the transaction ends (inside a writable one).
  virtual void lock_schema() {}
  /// Called once the schema version is known to be readable by this code, before any change.
  virtual void on_schema_checked() {}
  /// What a write transaction appends to the SELECT of a study's row to lock it (" FOR
  /// UPDATE"), or "" where the transaction holds the database's write lock already.
  virtual const char* lock_row() const = 0;
  /// The ORDER BY expression that sorts study names by their bytes.
  virtual const char* name_order() const = 0;
};

/// The SQLite connection of "sqlite://PATH" (sqlite_connection.cpp).
std::unique_ptr<SqlConnection> connect_sqlite(const std::string& path);
/// The PostgreSQL connection of "postgresql://..." (postgres_connection.cpp).
std::unique_ptr<SqlConnection> connect_postgres(const std::string& url);
/// `url` with the password (user:password@ or password=...) replaced by "***", for messages.
std::string masked_postgres_url(const std::string& url);

}  // namespace gpbo
