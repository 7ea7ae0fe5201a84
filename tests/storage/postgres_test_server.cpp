/// The test server's settings, raw SQL through libpq, and one fresh schema per test.
#include "storage/postgres_test_server.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>

namespace gpbo::test {

std::string postgres_setting(const char* env, const char* file, std::string* why) {
  if (const char* value = std::getenv(env); value != nullptr && *value != '\0') return value;
  const char* dir = std::getenv("GPBO_TEST_POSTGRES_DIR");
  std::string line;
  if (dir != nullptr && *dir != '\0') {
    std::ifstream in(std::string(dir) + "/" + file);
    if (in && std::getline(in, line) && !line.empty()) return line;
  }
  if (why != nullptr) {
    std::string reason;
    if (dir != nullptr && *dir != '\0') {
      std::ifstream skip(std::string(dir) + "/skip");
      std::getline(skip, reason);
    }
    *why = "no PostgreSQL test server: set " + std::string(env) +
           ", or run the test through ctest (fixture 'postgres')" +
           (reason.empty() ? std::string() : " (the fixture says: " + reason + ")");
  }
  return "";
}

std::string postgres_url(std::string* why) {
  return postgres_setting("GPBO_TEST_POSTGRES_URL", "url", why);
}

std::string postgres_sql(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect to the test server: " +
                             std::string(PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);  // quiet DROP ... CASCADE
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
  }
  if (status != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) return "";
  return PQgetvalue(r.get(), 0, 0);
}

std::string with_param(const std::string& url, const std::string& key, const std::string& value) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
}

PostgresSchema::PostgresSchema(std::string admin_url) : admin_url_(std::move(admin_url)) {
  static std::atomic<int> counter{0};
  std::random_device random;
  name_ = "gpbo_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
          std::to_string(random() % 100000);
  postgres_sql(admin_url_, "CREATE SCHEMA " + name_);
  url_ = with_param(with_param(admin_url_, "options", "-csearch_path%3D" + name_),
                    "application_name", name_);
}

PostgresSchema::~PostgresSchema() {
  try {
    postgres_sql(admin_url_, "DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  } catch (const std::exception&) {
    // The server may be gone already; the fixture removes the whole cluster anyway.
  }
}

std::string PostgresSchema::sql(const std::string& statement) const {
  return postgres_sql(admin_url_, "SET search_path = " + name_ + "; " + statement);
}

}  // namespace gpbo::test
