#pragma once
// SQL on a SQLite file behind the store's back, for tests that inspect or tamper with it.

#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace gpbo {

/// Runs one SQL statement on the file (created if absent) through a separate raw connection,
/// waiting up to 10 s for a lock; returns the first column of the first row as text ("" if
/// none). Throws std::runtime_error when the file cannot be opened or the statement fails.
inline std::string raw_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + file.string());
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    out = text != nullptr ? text : "";
  }
  const std::string error = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw std::runtime_error(sql + ": " + error);
  return out;
}

}  // namespace gpbo
