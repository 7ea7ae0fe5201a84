#pragma once
// The PostgreSQL server the storage tests run against: its URL (from the environment, or from the
// files that ctest's "postgres" fixture, tests/storage/postgres_server.sh, writes), raw SQL on
// it, and a fresh schema per test.

#include <string>

namespace gpbo::test {

/// A setting of the test server: the environment variable `env` when set (e.g.
/// GPBO_TEST_POSTGRES_URL), else the first line of the file `file` in $GPBO_TEST_POSTGRES_DIR
/// (the fixture's state directory). "" when neither exists; then *why (if given) says why.
std::string postgres_setting(const char* env, const char* file, std::string* why = nullptr);

/// The server's URL (a superuser, or a role that may create schemas); "" as above.
std::string postgres_url(std::string* why = nullptr);

/// Runs `sql` on `url` through a separate libpq connection; returns the first column of the first
/// row as text ("" when there is none). Throws std::runtime_error on failure.
std::string postgres_sql(const std::string& url, const std::string& sql);

/// `url` with one more query parameter `key=value` (value already percent-encoded).
std::string with_param(const std::string& url, const std::string& key, const std::string& value);

/// A fresh, uniquely named schema on the test server, dropped with everything in it when the
/// object goes: url() points a connection's search_path at it (and names the connection after it,
/// so that a test can find its own sessions in pg_stat_activity).
class PostgresSchema {
 public:
  explicit PostgresSchema(std::string admin_url);
  ~PostgresSchema();
  PostgresSchema(const PostgresSchema&) = delete;
  PostgresSchema& operator=(const PostgresSchema&) = delete;

  const std::string& name() const { return name_; }
  const std::string& admin_url() const { return admin_url_; }
  /// admin_url() with search_path = name() and application_name = name().
  const std::string& url() const { return url_; }
  /// Runs `sql` with search_path = name().
  std::string sql(const std::string& sql) const;

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

}  // namespace gpbo::test
