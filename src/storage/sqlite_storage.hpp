#pragma once
// The SQLite store behind "sqlite://PATH" (C API). See README.md in this folder for the schema,
// its version table and upgrade path, and the transaction rules.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gpbo/storage.hpp"
#include "storage/storage_common.hpp"

struct sqlite3;

namespace gpbo {

/// Studies in one SQLite file, shared safely by threads (one connection per object, calls
/// serialized by a mutex) and processes (WAL; every write one BEGIN IMMEDIATE transaction,
/// retried as a whole while the database is busy).
class SqliteStorage final : public Storage {
 public:
  /// The schema version this code writes; older databases are upgraded on open.
  static constexpr int kSchemaVersion = 1;

  /// Opens `path`, creating the file and the schema on first use. Throws StorageError, naming
  /// the path and SQLite's message, when the file cannot be opened or created, is not a gpbo
  /// database, or has a newer schema version; nothing is written to the file in those cases.
  explicit SqliteStorage(const std::string& path);
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  void create_study(const StudyInfo& info) override;
  std::vector<StudyInfo> list_studies() override;
  void delete_study(const std::string& name) override;
  void write(const std::string& study, const std::function<void(StudyTransaction&)>& fn) override;
  void read(const std::string& study, const std::function<void(StudyTransaction&)>& fn) override;
  std::vector<LogEntry> log(const std::string& study) override;

 private:
  /// Runs `attempt` until it gets through without SQLITE_BUSY/SQLITE_LOCKED, rolling back any
  /// open transaction and sleeping a randomized, growing backoff between tries; after about
  /// kRetrySeconds throws StorageError ("database is locked"). Other errors roll back and
  /// propagate.
  void with_retry(const std::string& what, const std::function<void()>& attempt);
  /// One transaction on `study`: BEGIN IMMEDIATE (writable) or BEGIN (a read snapshot), `fn`,
  /// COMMIT; retried as a whole on a busy database.
  void transaction(const std::string& study, bool writable,
                   const std::function<void(StudyTransaction&)>& fn);
  /// Creates or upgrades the schema (see migrate_step in the .cpp).
  void initialize();
  void rollback_quietly();

  std::string path_;
  sqlite3* db_ = nullptr;
  /// Serializes calls on db_; a call from inside `fn` throws StorageError.
  storage_detail::ConnectionMutex mutex_;
};

}  // namespace gpbo
