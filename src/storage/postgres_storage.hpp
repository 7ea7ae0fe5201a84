#pragma once
// The PostgreSQL store behind "postgresql://..." and "postgres://..." (libpq). See README.md in
// this folder for the schema, its version table, the locking and the retry rules.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gpbo/storage.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {

namespace postgres_detail {
class Connection;
}

/// Studies in one PostgreSQL schema, shared safely by threads (one connection per object, calls
/// serialized by a mutex), processes and machines: every write is one READ COMMITTED
/// transaction that first locks the study's row (SELECT ... FOR UPDATE), every read one
/// REPEATABLE READ, READ ONLY snapshot; serialization failures, deadlocks, lock timeouts and a
/// lost connection retry the whole transaction, for about kRetrySeconds in all.
class PostgresStorage final : public Storage {
 public:
  /// The schema version this code writes; older schemas are upgraded on open.
  static constexpr int kSchemaVersion = 1;
  /// How long one call keeps retrying (busy rows, lost connection) before StorageError.
  static constexpr double kRetrySeconds = 60.0;

  /// Connects to `url` (a libpq connection URI) and creates the schema in the connection's
  /// current schema (the first existing one on its search_path) on first use. Throws
  /// StorageError, naming the URL with any password masked, when the server cannot be reached
  /// (libpq's connect_timeout defaults to 10 s), refuses the login, the schema holds tables of
  /// the same names that are not gpbo's, or its version is newer; nothing is written then.
  explicit PostgresStorage(const std::string& url);
  ~PostgresStorage() override;
  PostgresStorage(const PostgresStorage&) = delete;
  PostgresStorage& operator=(const PostgresStorage&) = delete;

  void create_study(const StudyInfo& info) override;
  std::vector<StudyInfo> list_studies() override;
  void delete_study(const std::string& name) override;
  void write(const std::string& study, const std::function<void(StudyTransaction&)>& fn) override;
  void read(const std::string& study, const std::function<void(StudyTransaction&)>& fn) override;
  std::vector<LogEntry> log(const std::string& study) override;

  /// `url` with the password (user:password@ or password=...) replaced by "***", for messages.
  static std::string masked_url(const std::string& url);

 private:
  /// Runs `body` in one transaction (writable: READ COMMITTED with a lock timeout; else
  /// REPEATABLE READ, READ ONLY), committing when it returns. Retries the whole transaction,
  /// `body` included, on a serialization failure, deadlock, lock timeout or lost connection
  /// (reconnecting; a COMMIT whose outcome the lost connection hid is looked up by transaction
  /// id, never guessed); rolls back and rethrows any other exception.
  void transaction(const std::string& what, bool writable, const std::function<void()>& body);
  /// Creates or upgrades the schema (see migrate_step in the .cpp).
  void initialize();

  std::unique_ptr<postgres_detail::Connection> conn_;
  /// Serializes calls on conn_; a call from inside `fn` throws StorageError.
  storage_detail::ConnectionMutex mutex_;
};

}  // namespace gpbo
