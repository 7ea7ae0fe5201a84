#pragma once
// The SQL store: studies, trials and the log in four tables, on any SqlConnection (SQLite or
// PostgreSQL). See README.md in this folder for the schema, its version table and upgrade path,
// and each database's transaction and retry rules.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gpbo/storage.hpp"
#include "storage/sql_connection.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {

/// Studies in one database schema, shared safely by threads (one connection per object, calls
/// serialized by a mutex), processes and, for PostgreSQL, machines: every write is one
/// transaction that holds the study's row (or the database's write lock), every read one
/// snapshot.
class SqlStorage final : public Storage {
 public:
  /// The schema version this code writes; older schemas are upgraded on open.
  static constexpr int kSchemaVersion = 4;

  /// Takes the connection and creates or upgrades the schema. Throws StorageError, naming the
  /// store, when its tables are someone else's or its version is newer; nothing is written then.
  explicit SqlStorage(std::unique_ptr<SqlConnection> connection);
  ~SqlStorage() override;
  SqlStorage(const SqlStorage&) = delete;
  SqlStorage& operator=(const SqlStorage&) = delete;

  void create_study(const StudyInfo& info) override;
  std::vector<StudyInfo> list_studies() override;
  void delete_study(const std::string& name) override;
  void write(const std::string& study, const std::function<void(StudyTransaction&)>& fn) override;
  void read(const std::string& study, const std::function<void(StudyTransaction&)>& fn) override;
  std::vector<LogEntry> log(const std::string& study) override;

 private:
  /// Creates or upgrades the schema (see migrate_step in the .cpp).
  void initialize();

  std::unique_ptr<SqlConnection> conn_;
  /// Serializes calls on conn_; a call from inside `fn` throws StorageError.
  storage_detail::ConnectionMutex mutex_;
};

}  // namespace gpbo
